# Project-wide compile flags: the warning set every target builds clean with, and the
# sanitizer flags when SOCKIT_SANITIZE is on. Applied per target with sockit_target_flags().
add_library(sockit_flags INTERFACE)
target_compile_options(sockit_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wnull-dereference
  $<$<BOOL:${SOCKIT_WERROR}>:-Werror>)

if(SOCKIT_SANITIZE)
  set(sockit_sanitize_flags -fsanitize=address,undefined -fno-sanitize-recover=undefined
      -fno-omit-frame-pointer)
  target_compile_options(sockit_flags INTERFACE ${sockit_sanitize_flags})
  target_link_options(sockit_flags INTERFACE ${sockit_sanitize_flags})
endif()

function(sockit_target_flags target)
  target_link_libraries(${target} PRIVATE $<BUILD_INTERFACE:sockit_flags>)
endfunction()
