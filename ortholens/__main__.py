from ortholens.cli import main

main()
