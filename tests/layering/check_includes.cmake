# Fails when a layer includes a system header its layer must not use:
#  - server/ and client/ know nothing about sockets, polling or wake-ups: they read and write a
#    transport::Stream. server/daemon/ (the server process's life: signals, the watched
#    process, listeners) may poll and use eventfds, but opens no socket itself either.
#  - p9/ and the pure part of bpf/ do no I/O at all. The impure part of bpf/ is the JIT's code
#    pages (jit_code.*) and attaching filters to sockets (socket_attach.*).
# Usage: cmake -DSRC=<source>/src -P check_includes.cmake
if(NOT SRC)
  message(FATAL_ERROR "usage: cmake -DSRC=<source>/src -P check_includes.cmake")
endif()

set(socket_headers "sys/socket\\.h|netinet/[^>]*|arpa/inet\\.h|netdb\\.h|sys/un\\.h|linux/vm_sockets\\.h")
set(wait_headers "poll\\.h|sys/poll\\.h|sys/epoll\\.h|sys/select\\.h|sys/eventfd\\.h")
set(io_headers
    "unistd\\.h|fcntl\\.h|sys/socket\\.h|sys/mman\\.h|sys/stat\\.h|sys/uio\\.h|sys/ioctl\\.h|cstdio|stdio\\.h|fstream|iostream|${wait_headers}")

set(violations "")

# check(<files> <alternation of header names> <why>)
function(check files headers why)
  foreach(f IN LISTS files)
    file(STRINGS "${f}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*<(${headers})>")
    foreach(line IN LISTS lines)
      file(RELATIVE_PATH rel "${SRC}" "${f}")
      string(STRIP "${line}" line)
      list(APPEND violations "src/${rel}: ${line}  (${why})")
    endforeach()
  endforeach()
  set(violations "${violations}" PARENT_SCOPE)
endfunction()

file(GLOB_RECURSE server_files "${SRC}/server/*.h" "${SRC}/server/*.cpp")
file(GLOB_RECURSE daemon_files "${SRC}/server/daemon/*.h" "${SRC}/server/daemon/*.cpp")
file(GLOB_RECURSE client_files "${SRC}/client/*.h" "${SRC}/client/*.cpp")
set(stream_users ${server_files} ${client_files})
if(daemon_files)
  list(REMOVE_ITEM stream_users ${daemon_files})
endif()
check("${stream_users}" "${socket_headers}|${wait_headers}"
      "server/ and client/ use transport::Stream")
check("${daemon_files}" "${socket_headers}" "sockets are transport/'s business")

file(GLOB_RECURSE p9_files "${SRC}/p9/*.h" "${SRC}/p9/*.cpp")
check("${p9_files}" "${io_headers}" "p9/ is values in, values out")

file(GLOB_RECURSE bpf_files "${SRC}/bpf/*.h" "${SRC}/bpf/*.cpp")
list(FILTER bpf_files EXCLUDE REGEX "/(jit_code|socket_attach)\\.(h|cpp)$")
check("${bpf_files}" "${io_headers}" "the pure part of bpf/ does no I/O")

list(LENGTH server_files n_server)
list(LENGTH p9_files n_p9)
list(LENGTH bpf_files n_bpf)
if(n_server EQUAL 0 OR n_p9 EQUAL 0 OR n_bpf EQUAL 0)
  message(FATAL_ERROR "no sources found under ${SRC}")
endif()

if(violations)
  list(JOIN violations "\n  " text)
  message(FATAL_ERROR "layering: forbidden includes:\n  ${text}")
endif()
message(STATUS "layering: includes are where they belong")
