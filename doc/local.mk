# doc/: the dbtrust(1) man page, installed by make install.
dist_man_MANS += doc/dbtrust.1
