# cli/: the dbtrust command. (The program is added to bin_PROGRAMS once every command in
# cli/commands.h links; until then the sources below are listed for reference.)
DBTRUST_CLI_SOURCES = cli/main.c cli/util.c cli/commands.h
