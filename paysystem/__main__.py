from paysystem.cli import main

main()
