# Installation: `cmake --install build --prefix P` puts
#   bin/mrirecon                               the program
#   LIBDIR/libmrirecon.so.MAJOR (+ .so link)   the public C API (api/)
#   include/mrirecon/mrirecon.h                its header
#   LIBDIR/pkgconfig/mrirecon.pc               pkg-config (relocatable: paths from ${pcfiledir})
#   LIBDIR/cmake/mrirecon/                     find_package(mrirecon): target mrirecon::mrirecon
#   share/man/man1/mrirecon*.1                 man pages, made at build time from --help
#   lib/python3/dist-packages/mrirecon/        the Python package (Debian's python3 path)
#   share/mrirecon/{weights,data}/             the shipped CIRIM and the bundled sample of
#                                              README command (1), with their READMEs
#   share/doc/mrirecon/                        copyright (licences) and the example program
# LIBDIR is GNUInstallDirs' (lib, or lib/<multiarch> for the /usr prefix on Debian).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(MR_CMAKE_DIR ${CMAKE_CURRENT_LIST_DIR})
set(MR_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/mrirecon)
set(MR_INSTALL_PYTHONDIR lib/python3/dist-packages)
set(MR_INSTALL_SHAREDIR ${CMAKE_INSTALL_DATADIR}/mrirecon)

# The program and the library keep using the OpenMP build of OpenBLAS they were linked with
# (its soname libopenblas.so.0 is shared with the pthreads build, which Debian's alternatives
# may select), as they do in the build tree.
get_filename_component(MR_OPENBLAS_DIR ${OPENBLAS_LIB} DIRECTORY)
set_target_properties(mrirecon mrirecon_shared PROPERTIES INSTALL_RPATH ${MR_OPENBLAS_DIR})
install(TARGETS mrirecon RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS mrirecon_shared EXPORT mrirecon-targets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${CMAKE_SOURCE_DIR}/api/mrirecon.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mrirecon)

# CMake package: mrirecon-config.cmake, its version file (same major version = same SONAME)
# and the exported target
install(EXPORT mrirecon-targets NAMESPACE mrirecon:: DESTINATION ${MR_INSTALL_CMAKEDIR})
configure_package_config_file(${MR_CMAKE_DIR}/mrirecon-config.cmake.in
                              ${CMAKE_BINARY_DIR}/cmake/mrirecon-config.cmake
                              INSTALL_DESTINATION ${MR_INSTALL_CMAKEDIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/cmake/mrirecon-config-version.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/cmake/mrirecon-config.cmake
              ${CMAKE_BINARY_DIR}/cmake/mrirecon-config-version.cmake
        DESTINATION ${MR_INSTALL_CMAKEDIR})

# Where one installed file is from another, for files that must find their way at run time
# without knowing the prefix: mr_install_relpath(<var> <from dir> <to>), both relative to it.
function(mr_install_relpath var from to)
    if(IS_ABSOLUTE "${to}")
        set(${var} "${to}" PARENT_SCOPE)
    else()
        file(RELATIVE_PATH rel "/prefix/${from}" "/prefix/${to}")
        string(REGEX REPLACE "/$" "" rel "${rel}")
        set(${var} "${rel}" PARENT_SCOPE)
    endif()
endfunction()

mr_install_relpath(MR_PC_PREFIX ${CMAKE_INSTALL_LIBDIR}/pkgconfig ".")
configure_file(${MR_CMAKE_DIR}/mrirecon.pc.in ${CMAKE_BINARY_DIR}/pkgconfig/mrirecon.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/pkgconfig/mrirecon.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# Man pages from each command's --help (cmake/help2man.sh), regenerated with the program
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/man/mrirecon.1
                   COMMAND sh ${MR_CMAKE_DIR}/help2man.sh $<TARGET_FILE:mrirecon>
                           ${CMAKE_BINARY_DIR}/man ${PROJECT_VERSION}
                   DEPENDS mrirecon ${MR_CMAKE_DIR}/help2man.sh
                   COMMENT "Man pages from mrirecon --help")
add_custom_target(mr_man ALL DEPENDS ${CMAKE_BINARY_DIR}/man/mrirecon.1)
install(DIRECTORY ${CMAKE_BINARY_DIR}/man/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
        FILES_MATCHING PATTERN "*.1")

# The Python package, with the library's place relative to it (python/mrirecon/_lib.py)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/python/mrirecon DESTINATION ${MR_INSTALL_PYTHONDIR}
        FILES_MATCHING PATTERN "*.py" PATTERN "__pycache__" EXCLUDE)
mr_install_relpath(MR_PY_LIBRARY ${MR_INSTALL_PYTHONDIR}/mrirecon
                   ${CMAKE_INSTALL_LIBDIR}/libmrirecon.so.${PROJECT_VERSION_MAJOR})
file(WRITE ${CMAKE_BINARY_DIR}/python/_install.py
     "# Written by cmake --install: libmrirecon relative to this folder.\n"
     "LIBRARY = \"${MR_PY_LIBRARY}\"\n")
install(FILES ${CMAKE_BINARY_DIR}/python/_install.py DESTINATION ${MR_INSTALL_PYTHONDIR}/mrirecon)

# What README command (1) needs: the shipped CIRIM and the real 8-coil sample, with the
# READMEs that give their sources and licences
install(FILES ${CMAKE_SOURCE_DIR}/weights/shipped/cirim-brain-demo.h5
              ${CMAKE_SOURCE_DIR}/weights/shipped/cirim-brain-demo.md
              ${CMAKE_SOURCE_DIR}/weights/shipped/README.md
        DESTINATION ${MR_INSTALL_SHAREDIR}/weights)
install(FILES ${CMAKE_SOURCE_DIR}/data/sample/brain8_poisson.h5 ${CMAKE_SOURCE_DIR}/data/README.md
        DESTINATION ${MR_INSTALL_SHAREDIR}/data)
install(FILES ${MR_CMAKE_DIR}/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${CMAKE_SOURCE_DIR}/examples/reconstruct.c ${CMAKE_SOURCE_DIR}/examples/CMakeLists.txt
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
