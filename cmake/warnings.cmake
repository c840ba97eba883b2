# Project-wide compile flags: the warning set every target builds clean with, and the
# sanitizer flags when SOCKIT_SANITIZE (ASan+UBSan) or SOCKIT_TSAN is on. Applied per target with sockit_target_flags().
add_library(sockit_flags INTERFACE)
target_compile_options(sockit_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wnull-dereference
  # GCC 12 reports -Wrestrict falsely inside libstdc++ for "literal" + std::string at -O2 and
  # above (GCC PR 105329); clang still checks the same code.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>
  $<$<BOOL:${SOCKIT_WERROR}>:-Werror>)

if(SOCKIT_SANITIZE)
  set(sockit_sanitize_flags -fsanitize=address,undefined -fno-sanitize-recover=undefined
      -fno-omit-frame-pointer)
  # clang 14's -fsanitize=function (part of undefined) cannot assemble coroutine code
  # ("Cannot represent a difference across sections").
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    list(APPEND sockit_sanitize_flags -fno-sanitize=function)
  endif()
  target_compile_options(sockit_flags INTERFACE ${sockit_sanitize_flags})
  target_link_options(sockit_flags INTERFACE ${sockit_sanitize_flags})
endif()

if(SOCKIT_TSAN)
  set(sockit_tsan_flags -fsanitize=thread -fno-omit-frame-pointer)
  target_compile_options(sockit_flags INTERFACE ${sockit_tsan_flags})
  target_link_options(sockit_flags INTERFACE ${sockit_tsan_flags})
endif()

function(sockit_target_flags target)
  target_link_libraries(${target} PRIVATE $<BUILD_INTERFACE:sockit_flags>)
endfunction()
