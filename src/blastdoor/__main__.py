from blastdoor.cli.main import entry

entry()
