// scan_serial: the floor bench/scan.sh holds `sockit scan` against. The tutorials' port
// scanner in C: one blocking connect after the other, a port is open when connect succeeds.
// It costs exactly one socket(), one connect() and one close() per port, so its CPU time per
// port is what one connect costs when nothing else is done.
//
//   scan_serial HOST FIRST LAST    HOST a numeric IPv4 address
//
// Prints "PORT open" for each open port, then "ports N open M" on stderr. Open connections
// are reset (SO_LINGER 0), as the tutorial's garbage-collected sockets are not, so that
// back-to-back runs do not fill the ephemeral ports with TIME_WAIT.
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void usage(void) {
  fputs("usage: scan_serial HOST FIRST LAST\n", stderr);
  exit(2);
}

static long parse_port(const char* text) {
  char* end = NULL;
  errno = 0;
  const long value = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 1 || value > 65535) usage();
  return value;
}

int main(int argc, char** argv) {
  if (argc != 4) usage();
  struct sockaddr_in target;
  memset(&target, 0, sizeof target);
  target.sin_family = AF_INET;
  if (inet_pton(AF_INET, argv[1], &target.sin_addr) != 1) usage();
  const long first = parse_port(argv[2]);
  const long last = parse_port(argv[3]);
  if (first > last) usage();

  long open = 0;
  for (long port = first; port <= last; ++port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      fprintf(stderr, "scan_serial: socket: %s\n", strerror(errno));
      return 1;
    }
    target.sin_port = htons((unsigned short)port);
    if (connect(fd, (const struct sockaddr*)&target, sizeof target) == 0) {
      const struct linger reset = {1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
      printf("%ld open\n", port);
      ++open;
    }
    close(fd);
  }
  fprintf(stderr, "ports %ld open %ld\n", last - first + 1, open);
  return 0;
}
