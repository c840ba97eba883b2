# Runs a libFuzzer target for a bounded time, as a test. libFuzzer writes the inputs it finds
# into its first corpus directory: that is a fresh scratch directory, removed afterwards, so
# the committed corpus (second, read only) never changes. Reproducers of a failure go to
# WORK_DIR, in the build tree.
#   cmake -D FUZZER=<binary> -D CORPUS=<dir> -D DICT=<file> -D SECONDS=<n> -D WORK_DIR=<dir>
#         -P smoke.cmake
string(RANDOM LENGTH 12 suffix)
set(scratch "${WORK_DIR}/scratch-${suffix}")
file(MAKE_DIRECTORY "${scratch}")
math(EXPR hard_limit "${SECONDS} * 3 + 30")
execute_process(
  COMMAND "${FUZZER}" "${scratch}" "${CORPUS}" "-dict=${DICT}" "-max_total_time=${SECONDS}"
          -timeout=10 -print_final_stats=1 "-artifact_prefix=${WORK_DIR}/"
  TIMEOUT ${hard_limit}
  RESULT_VARIABLE result)
file(REMOVE_RECURSE "${scratch}")
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed: ${result} (reproducers in ${WORK_DIR})")
endif()
