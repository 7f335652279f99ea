# The engine, the control path, the parsers and the registry.
core-y += core/size.o
core-y += core/crc32c.o
core-y += core/spec.o
core-y += core/table.o
core-y += core/tree.o
core-y += core/iov.o
core-y += core/split.o
core-y += core/children.o
core-y += core/io.o
core-y += core/aio.o
core-y += core/queue.o
core-y += core/poke.o
core-y += core/ublk_ctrl.o
core-y += core/frontend_ublk.o
core-y += core/frontend_inproc.o
core-y += core/copy_mode.o
core-y += core/device.o
