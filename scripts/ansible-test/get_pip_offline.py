"""Stand-in for ansible-test's pip bootstrap script, for machines that reach PyPI but not the host
ansible-test downloads get-pip.py from. setup.sh puts it in ansible-test's cache
(~/.ansible/test/cache/get_pip_<version>.py); ansible-test runs it inside each new sanity venv with
the packages to install as arguments.

It seeds pip from the interpreter's own ensurepip, then lets that pip install what was asked, with the
machine's pip configuration (index, certificates) in force.
"""
import subprocess
import sys

args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + args)
