# The core, in rooms that depend one way (core/config/config.h says what
# lives where): lib <- config <- engine <- device.
core-y += core/lib/size.o core/lib/str.o core/lib/devsize.o core/lib/crc32c.o core/lib/iov.o
core-y += core/lib/wait.o
core-y += core/config/spec.o core/config/registry.o core/config/args.o core/config/build.o
core-y += core/config/claims.o core/config/replace.o core/config/report.o
core-y += core/config/shorthand.o core/config/table.o
core-y += core/engine/io.o core/engine/split.o core/engine/aio.o core/engine/queue.o
core-y += core/engine/poke.o core/engine/node_io.o core/engine/frontend_inproc.o
core-y += core/device/ublk_ctrl.o core/device/frontend_ublk.o core/device/copy_mode.o
core-y += core/device/device.o core/device/device_recover.o core/device/device_reload.o
