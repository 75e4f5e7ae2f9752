# The load generator's driver, a library for bench_load (bench/load) and the load test
# (tests/load). Included from both directories: the test is built without the benchmarks too
# (NINEP_BENCH=OFF, e.g. the sanitizer build), so the library cannot live only under bench/.
include_guard(GLOBAL)
add_library(ninep_loadgen STATIC ${CMAKE_CURRENT_LIST_DIR}/load_driver.cpp)
target_include_directories(ninep_loadgen PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(ninep_loadgen PUBLIC ninep_p9 ninep_transport fmt::fmt Threads::Threads)
