# `cpack` (or `cmake --build build --target package`) makes build/ninep_VERSION_ARCH.deb from the
# install rules. Its dependencies are read from the shared libraries the binaries link
# (dpkg-shlibdeps), plus fuse3 for fusermount3 (unprivileged FUSE mounts and unmounts).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ninep)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "ninep maintainers <ninep@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "9P2000.L file server and client for sharing host directories with virtual machines")
string(CONCAT CPACK_DEBIAN_PACKAGE_DESCRIPTION
       "ninep serves host directories over 9P2000.L (unix, TCP, vsock, socket activation), "
       "mounts them through the kernel's v9fs or FUSE, and has client commands for scripts. "
       "cbpf assembles, disassembles, checks and runs classic BPF programs.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS fuse3)
set(CPACK_STRIP_FILES ON)
include(CPack)
