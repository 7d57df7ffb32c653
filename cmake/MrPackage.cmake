# The Debian package (CPack DEB): `cpack -G DEB --config build/CPackConfig.cmake` (or
# `cmake --build build --target package`) writes build/mrirecon_VERSION_ARCH.deb with everything
# cmake/MrInstall.cmake installs, under /usr. Its dependencies come from dpkg-shlibdeps on the
# program and the library (Debian 12 package names); the Python package's numpy is suggested.
# tools/deb.sh builds it, checks its contents, and installs it and runs the main job.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mrirecon)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "the mrirecon authors")
set(CPACK_PACKAGE_CONTACT "the mrirecon authors")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "learned and classical MRI reconstruction from multi-coil k-space")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "${CPACK_PACKAGE_DESCRIPTION_SUMMARY}
mrirecon reads undersampled multi-coil k-space (fastMRI-style HDF5 and ISMRMRD raw data),
reconstructs it with classical methods (SENSE, CG-SENSE, L1-wavelet compressed sensing) and
with unrolled networks from the PyTorch frameworks (fastMRI, ATOMMIC, DIRECT, LPN), and writes
images (HDF5, PNG, NIfTI, ISMRMRD).
.
This package holds the mrirecon program, the shared library libmrirecon with its C header,
pkg-config and CMake files, a Python package (ctypes), man pages, and the shipped demonstration
CIRIM with the bundled real 8-coil brain sample (/usr/share/mrirecon).")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# dpkg-shlibdeps names libopenblas0 (any OpenBLAS build); the program and library use the
# OpenMP build (cmake/MrInstall.cmake), so that is named too (the generated list is appended)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libopenblas0-openmp")
# built with oneDNN (MR_DNNL): its runtime, named as well (dpkg-shlibdeps finds it from the
# library's NEEDED entry too)
if(MR_DNNL)
    set(CPACK_DEBIAN_PACKAGE_DEPENDS "${CPACK_DEBIAN_PACKAGE_DEPENDS}, libdnnl2")
endif()
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "python3, python3-numpy")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_OUTPUT_FILE_PREFIX ${CMAKE_BINARY_DIR})
include(CPack)
