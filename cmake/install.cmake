# Installs the library, its headers, a CMake package (find_package(sockit), then link
# sockit::sockit) and a pkg-config file (pkg-config --cflags --libs sockit).
include(CMakePackageConfigHelpers)

set(sockit_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/sockit)

install(TARGETS sockit EXPORT sockitTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/sockit DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.hpp")
install(FILES ${PROJECT_BINARY_DIR}/include/sockit/version.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/sockit)
install(EXPORT sockitTargets NAMESPACE sockit:: DESTINATION ${sockit_cmake_dir})

configure_package_config_file(cmake/sockitConfig.cmake.in
  ${PROJECT_BINARY_DIR}/sockitConfig.cmake
  INSTALL_DESTINATION ${sockit_cmake_dir})
# Before 1.0 a minor release may break the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/sockitConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/sockitConfig.cmake ${PROJECT_BINARY_DIR}/sockitConfigVersion.cmake
  DESTINATION ${sockit_cmake_dir})

# The .pc file finds the prefix from its own place, so the tree works wherever it is installed
# (cmake --install --prefix chooses that after configuring).
file(RELATIVE_PATH sockit_pc_to_prefix /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" sockit_pc_to_prefix ${sockit_pc_to_prefix})
configure_file(cmake/sockit.pc.in ${PROJECT_BINARY_DIR}/sockit.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/sockit.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
