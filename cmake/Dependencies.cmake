# Every dependency comes from a Debian package installed by scripts/setup.
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(PkgConfig REQUIRED)

# Debian ships MuPDF as a static library only, so its private dependencies
# must be linked too; harfbuzz is missing from mupdf.pc.
pkg_check_modules(MUPDF REQUIRED IMPORTED_TARGET GLOBAL mupdf)
pkg_check_modules(HARFBUZZ REQUIRED IMPORTED_TARGET GLOBAL harfbuzz)
add_library(visor_mupdf INTERFACE)
target_include_directories(visor_mupdf INTERFACE ${MUPDF_STATIC_INCLUDE_DIRS})
target_link_libraries(visor_mupdf INTERFACE ${MUPDF_STATIC_LDFLAGS} PkgConfig::HARFBUZZ)

pkg_check_modules(TESSERACT REQUIRED IMPORTED_TARGET GLOBAL tesseract lept)

pkg_check_modules(CURL REQUIRED IMPORTED_TARGET GLOBAL libcurl)

pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET GLOBAL libpq)
