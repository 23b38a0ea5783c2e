# Warnings for Visor's own code only: product and test targets link this
# interface target; third-party code never sees these flags.
add_library(visor_warnings INTERFACE)
target_compile_options(visor_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wnull-dereference -Wformat=2)
