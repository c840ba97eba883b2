"""The tutorials' client programs that more than one suite runs, as the tutorials wrote them
but with the host and port they hard-code taken from argv (host, then port)."""

# qotd_client.py: one empty datagram, then the quote that answers it.
QOTD_CLIENT = """
import socket
import sys

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:

    message = b''
    addr = (sys.argv[1], int(sys.argv[2]))

    s.sendto(message, addr)

    data, address = s.recvfrom(1024)
    print(data.decode())
"""


# The echo and daytime clients of the same tutorial.
def tcp_client(message):
    """The tutorial's TCP client (echo and daytime alike): connect, send message, print what
    comes back."""
    return f"""
import socket
import sys

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:

    host = sys.argv[1]
    port = int(sys.argv[2])

    s.connect((host, port))
    s.sendall({message!r})
    print(str(s.recv(4096), 'utf-8'))
"""


ECHO_CLIENT = tcp_client(b'hello there')
DAYTIME_CLIENT = tcp_client(b'')
