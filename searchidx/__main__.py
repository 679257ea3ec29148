from searchidx.cli import main

main(prog_name="searchidx")
