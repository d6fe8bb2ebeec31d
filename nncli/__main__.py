from .cli import starting

starting.install()  # before the imports that take the time; the command line's callback undoes it
from .cli.app import main  # noqa: E402

main()
