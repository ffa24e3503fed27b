from sfdc.ops.cli import main

main(prog_name="python -m sfdc")
