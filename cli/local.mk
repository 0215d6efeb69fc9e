# cli/: the dbtrust command. One file per command family; main.c holds the command table.
bin_PROGRAMS += dbtrust
dbtrust_SOURCES = \
	cli/main.c cli/util.c cli/commands.h \
	cli/print.c cli/keytool_fmt.c cli/keytool_fmt.h \
	cli/convert.c cli/catalog_cmds.c cli/keytool.c cli/system.c \
	provider/cnf.c provider/cnf.h
dbtrust_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(JANSSON_CFLAGS)
dbtrust_LDADD = lib/libdbtrust.la $(CRYPTO_LIBS) $(JANSSON_LIBS)
