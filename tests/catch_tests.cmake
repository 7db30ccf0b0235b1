# Writes CTEST_FILE: one ctest entry per Catch2 test case of TEST_EXECUTABLE, run after each build
# of vidbatch_tests (tests/CMakeLists.txt). Catch.cmake's catch_discover_tests (Catch2 v2) splits
# names at ';' and gives every test the same properties; this one keeps any name whole and sets
# each test's labels and timeout from its tags:
#   name     "[tag1][tag2] <test case name>", so `ctest -R chaos` finds the [chaos] cases
#   labels   every tag, plus "e2e" or "unit" (`ctest -L unit`, `ctest -L store`)
#   timeout  UNIT_TIMEOUT, E2E_TIMEOUT ([e2e]) or SOAK_TIMEOUT ([chaos], [soak]) seconds
#   cores    2 for [chaos] and [soak] (PROCESSORS), which also start first (COST)
#   fixture  the [postgres] and PgLedger cases share one PostgreSQL server per ctest run, started
#            and stopped by the hidden [pg-fixture] cases (tests/support/pg_server.cpp)
# Only the tests TEST_SPEC selects, if given (a Catch2 test spec such as "~[e2e]"). Hidden tests
# ([.]) are not listed by Catch2, so they get no entry.

cmake_minimum_required(VERSION 3.20)

# out = the lines of `TEST_EXECUTABLE ARGN` as a CMake list. ';' would split a line and '[' ']'
# would join lines (CMake lists group bracketed text), so they are encoded until decode().
function(catch_lines out)
  execute_process(COMMAND "${TEST_EXECUTABLE}" ${ARGN} OUTPUT_VARIABLE text RESULT_VARIABLE rc)
  if(NOT rc MATCHES "^[0-9]+$")
    message(FATAL_ERROR "${TEST_EXECUTABLE} ${ARGN} failed: ${rc}\n${text}")
  endif()
  string(REPLACE ";" "<semicolon>" text "${text}")
  string(REPLACE "[" "<open>" text "${text}")
  string(REPLACE "]" "<close>" text "${text}")
  string(REPLACE "\n" ";" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

function(decode out text)
  string(REPLACE "<semicolon>" ";" text "${text}")
  string(REPLACE "<open>" "[" text "${text}")
  string(REPLACE "<close>" "]" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# A CMake bracket argument holding `text` verbatim (';', quotes and backslashes included).
function(bracket out text)
  if(text MATCHES "]==]")
    message(FATAL_ERROR "test name contains ]==]: ${text}")
  endif()
  set(${out} "[==[${text}]==]" PARENT_SCOPE)
endfunction()

catch_lines(tag_lines --list-tags)
set(tags "")
foreach(line IN LISTS tag_lines)
  if(line MATCHES "^ *[0-9]+  <open>(.*)<close>$")
    list(APPEND tags "${CMAKE_MATCH_1}")
  endif()
endforeach()
list(REMOVE_DUPLICATES tags)

catch_lines(names ${TEST_SPEC} --list-test-names-only)
list(FILTER names EXCLUDE REGEX "^$")
foreach(tag IN LISTS tags)
  catch_lines(tagged --list-test-names-only "[${tag}]")
  foreach(name IN LISTS tagged)
    string(MD5 key "${name}")
    string(APPEND "tags_${key}" "[${tag}]")
  endforeach()
endforeach()

set(pg_shared "${WORKING_DIR}/pg-test-server")
set(script "")
set(count 0)
foreach(name IN LISTS names)
  string(MD5 key "${name}")
  set(name_tags "${tags_${key}}")
  decode(name "${name}")
  string(REGEX MATCHALL "[^][]+" labels "${name_tags}")
  if(name_tags MATCHES "\\[(chaos|soak)\\]")
    set(timeout ${SOAK_TIMEOUT})
  elseif(name_tags MATCHES "\\[e2e\\]")
    set(timeout ${E2E_TIMEOUT})
  else()
    set(timeout ${UNIT_TIMEOUT})
    list(APPEND labels unit)
  endif()
  # The test spec Catch2 matches exactly: '\' escapes the characters its parser reads (',' splits
  # specs, '[' starts a tag, '"' quotes, '~' at the start excludes).
  set(spec "${name}")
  foreach(char "\\" "," "[" "]" "\"")
    string(REPLACE "${char}" "\\${char}" spec "${spec}")
  endforeach()
  string(REGEX REPLACE "^~" "\\\\~" spec "${spec}")
  if(name_tags STREQUAL "")
    bracket(test "${name}")
  else()
    bracket(test "${name_tags} ${name}")
  endif()
  bracket(spec "${spec}")
  string(APPEND script
    "add_test(${test} \"${TEST_EXECUTABLE}\" ${spec} --warn NoTests --durations no)\n"
    "set_tests_properties(${test} PROPERTIES LABELS \"${labels}\" TIMEOUT ${timeout}"
    " WORKING_DIRECTORY \"${WORKING_DIR}\")\n")
  # Most tests wait on sockets and timers (tools/test runs twice as many as there are cores);
  # these keep several processes busy for long: they count as two and start first (a fresh
  # build directory has no timings for ctest to order by).
  if(name_tags MATCHES "\\[(chaos|soak)\\]")
    string(APPEND script "set_tests_properties(${test} PROPERTIES PROCESSORS 2 COST 1000)\n")
  endif()
  if(name_tags MATCHES "\\[postgres\\]" OR name MATCHES "PgLedger$")
    string(APPEND script "set_tests_properties(${test} PROPERTIES FIXTURES_REQUIRED postgres"
      " ENVIRONMENT \"VIDBATCH_TEST_PG_SHARED=${pg_shared}\")\n")
  endif()
  math(EXPR count "${count} + 1")
endforeach()
if(count EQUAL 0)
  message(FATAL_ERROR "${TEST_EXECUTABLE} lists no test cases")
endif()
foreach(step IN ITEMS starts stops)
  set(test "[pg-fixture] the ctest run's PostgreSQL server ${step}")
  string(APPEND script
    "add_test([==[${test}]==] \"${TEST_EXECUTABLE}\" [==[the ctest run's PostgreSQL server ${step}]==])\n"
    "set_tests_properties([==[${test}]==] PROPERTIES TIMEOUT ${UNIT_TIMEOUT}"
    " ENVIRONMENT \"VIDBATCH_TEST_PG_SHARED=${pg_shared}\""
    " WORKING_DIRECTORY \"${WORKING_DIR}\")\n")
endforeach()
string(APPEND script
  "set_tests_properties([==[[pg-fixture] the ctest run's PostgreSQL server starts]==]"
  " PROPERTIES FIXTURES_SETUP postgres)\n"
  "set_tests_properties([==[[pg-fixture] the ctest run's PostgreSQL server stops]==]"
  " PROPERTIES FIXTURES_CLEANUP postgres)\n")
file(WRITE "${CTEST_FILE}" "${script}")
