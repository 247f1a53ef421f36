from featmesh.connector.cli import main

main()
