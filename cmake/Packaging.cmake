# A Debian package from the install rules: `cmake --build build --target package` (or `cpack` in
# build/) makes build/ninep_VERSION_ARCH.deb. Its dependencies are read from the shared libraries
# the binaries link (dpkg-shlibdeps, package dpkg-dev), plus fuse3 for fusermount3 (unprivileged
# FUSE mounts and unmounts), which nothing links.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ninep)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "ninep maintainers <ninep@localhost>")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${CPACK_PACKAGE_CONTACT})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "9P2000.L file server and client to share host directories with VMs")
# Lines of the extended description (CPack indents them as the control file wants).
string(CONCAT CPACK_PACKAGE_DESCRIPTION
       "ninep serves host directories over 9P2000.L (unix, TCP, vsock, systemd socket\n"
       "activation), mounts them through the kernel's v9fs or FUSE, and has client\n"
       "commands for scripts (ls, stat, cat, get, put, ...).\n"
       "cbpf assembles, disassembles, checks and runs classic BPF programs.")
# Debian's paths whatever CMAKE_INSTALL_PREFIX was configured (the systemd unit's ExecStart= is
# configured at install time: contrib/CMakeLists.txt).
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS fuse3)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# RelWithDebInfo binaries are ~50 MB with their debug information.
set(CPACK_STRIP_FILES ON)
include(CPack)
