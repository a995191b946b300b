# The installable package: `cmake --install` puts the public headers under
# <prefix>/include/refkv/<module>/, the static libraries, refkvConfig.cmake (imported
# targets refkv::kv, refkv::rocks, refkv::postgres, refkv::refstore and those they link)
# and refkv.pc; examples/embed/ uses them through find_package(refkv). Also the
# `checkheaders` target (not in ALL): every public header compiled on its own.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The headers an embedder includes. Everything else stays private: the drivers' internals
# (engine/rocks, engine/postgres beyond the Open function), the module-internal headers in
# subfolders (io/file/, format/dump/, migrate/backup/, refstore/internal/ ...) and those
# whose comment says internal (migrate/lease.h, plan.h, preflight.h, records.h;
# refstore/committed/ but its two interfaces). base/ is public whole.
file(GLOB refkv_base_headers RELATIVE ${PROJECT_SOURCE_DIR} CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/base/*.h)
set(REFKV_PUBLIC_HEADERS
    ${refkv_base_headers}
    io/file.h
    io/fs.h
    io/rocks_fs.h
    engine/store.h
    engine/uri.h
    engine/open.h
    engine/metadata.h
    engine/mem/mem_store.h
    engine/rocks/rocks_store.h
    engine/postgres/postgres_store.h
    format/dump.h
    format/sst.h
    format/copy.h
    migrate/migrate.h
    migrate/nodes.h
    migrate/backup.h
    refstore/refstore.h
    refstore/schema.h
    refstore/open_for_store.h
    refstore/check.h
    refstore/entry_lines.h
    refstore/committed/committed.h
    refstore/committed/range_store.h)

# refkv_X is exported as refkv::X (an alias of the same name in this build).
set(REFKV_EXPORTED_TARGETS refkv_base refkv_io refkv_kv refkv_rocks refkv_postgres
                           refkv_format refkv_migrate refkv_committed refkv_refstore)
foreach(target IN LISTS REFKV_EXPORTED_TARGETS)
  string(REPLACE "refkv_" "" name ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name})
  target_include_directories(${target}
                             INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/refkv>)
  add_library(refkv::${name} ALIAS ${target})
endforeach()
target_compile_features(refkv_base PUBLIC cxx_std_20)

foreach(header IN LISTS REFKV_PUBLIC_HEADERS)
  get_filename_component(dir ${header} DIRECTORY)
  install(FILES ${header} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/refkv/${dir})
endforeach()
install(TARGETS ${REFKV_EXPORTED_TARGETS} EXPORT refkvTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
set(refkv_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/refkv)
install(EXPORT refkvTargets NAMESPACE refkv:: DESTINATION ${refkv_cmake_dir})
configure_package_config_file(cmake/refkvConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/refkvConfig.cmake
                              INSTALL_DESTINATION ${refkv_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/refkvConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/refkvConfig.cmake
              ${PROJECT_BINARY_DIR}/refkvConfigVersion.cmake
        DESTINATION ${refkv_cmake_dir})
# refkv.pc locates the prefix from its own place (relocatable, as the CMake package).
file(RELATIVE_PATH REFKV_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" REFKV_PC_TO_PREFIX ${REFKV_PC_TO_PREFIX})
configure_file(cmake/refkv.pc.in ${PROJECT_BINARY_DIR}/refkv.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/refkv.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# checkheaders: one source per public header that includes only it, compiled against a
# copy of the public headers alone (the installed layout), so a header that misses an
# include or includes a private header fails here.
set(checkheaders_dir ${PROJECT_BINARY_DIR}/checkheaders)
set(checkheaders_sources)
foreach(header IN LISTS REFKV_PUBLIC_HEADERS)
  configure_file(${header} ${checkheaders_dir}/include/${header} COPYONLY)
  string(MAKE_C_IDENTIFIER ${header} id)
  file(CONFIGURE OUTPUT ${checkheaders_dir}/${id}.cc CONTENT "#include \"${header}\"\n")
  list(APPEND checkheaders_sources ${checkheaders_dir}/${id}.cc)
endforeach()
add_library(checkheaders OBJECT EXCLUDE_FROM_ALL ${checkheaders_sources})
target_link_libraries(checkheaders PRIVATE refkv_refstore refkv_rocks refkv_postgres)
set_property(TARGET checkheaders PROPERTY INCLUDE_DIRECTORIES ${checkheaders_dir}/include)
