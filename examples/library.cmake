# The programs of docs/library.md, the guide for a C++ programmer: every ```cpp block of the
# guide whose first line is "// file: NAME.cpp" is written out and built like the other
# examples, so the guide cannot show code that does not compile (tests/interop runs them).
# The text is walked with string(FIND) rather than matched into a list: C++ holds semicolons,
# which a CMake list would split on.
set(guide ${PROJECT_SOURCE_DIR}/docs/library.md)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${guide})
file(READ ${guide} rest)
set(opening "```cpp\n// file: ")
string(LENGTH "${opening}" opening_length)
set(guide_programs "")
while(TRUE)
  string(FIND "${rest}" "${opening}" at)
  if(at EQUAL -1)
    break()
  endif()
  math(EXPR at "${at} + ${opening_length}")
  string(SUBSTRING "${rest}" ${at} -1 rest)
  string(FIND "${rest}" ".cpp\n" name_end)
  string(SUBSTRING "${rest}" 0 ${name_end} name)
  if(NOT name MATCHES "^[a-z_]+$")
    message(FATAL_ERROR "docs/library.md: a program is named '${name}': use [a-z_]+.cpp")
  endif()
  string(FIND "${rest}" "\n```" end)
  string(SUBSTRING "${rest}" 0 ${end} source)
  string(SUBSTRING "${rest}" ${end} -1 rest)
  # Only rewritten when the text changed, so that reconfiguring rebuilds nothing else.
  file(CONFIGURE OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/${name}.cpp CONTENT "// file: ${source}\n"
       @ONLY)
  add_executable(${name} ${CMAKE_CURRENT_BINARY_DIR}/${name}.cpp)
  target_link_libraries(${name} PRIVATE sockit::sockit)
  sockit_target_flags(${name})
  list(APPEND guide_programs ${name})
endwhile()
if(NOT guide_programs)
  message(FATAL_ERROR "docs/library.md holds no program (```cpp blocks starting // file: NAME.cpp)")
endif()
