// chat_floor: the floor bench/chat.sh holds `sockit serve chat` against. The least a broadcast
// server can do: one epoll loop, and for every read from a client one send() of those bytes to
// each other client, with no queue, no parsing and no prefix. A send that would block drops
// the bytes (counted): a real server cannot do that, so its time per delivery is a floor,
// not a competitor.
//
//   chat_floor PORT     listens on 127.0.0.1:PORT (0: any free port, printed on stdout)
//
// Greets each client with "hello\n" (chat_bench waits for a greeting) and runs until SIGTERM
// or SIGINT, then prints "deliveries N dropped M" on stderr.
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

enum { kMaxClients = 20000, kChunk = 65536, kEvents = 256 };

static int clients[kMaxClients];
static size_t client_count;
static volatile sig_atomic_t stopping;

static void on_signal(int signo) {
  (void)signo;
  stopping = 1;
}

static void die(const char* what) {
  perror(what);
  exit(1);
}

static int open_listener(long port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) die("socket");
  const int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  struct sockaddr_in address;
  memset(&address, 0, sizeof address);
  address.sin_family = AF_INET;
  address.sin_port = htons((unsigned short)port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr*)&address, sizeof address) < 0) die("bind");
  if (listen(fd, SOMAXCONN) < 0) die("listen");
  socklen_t size = sizeof address;
  if (getsockname(fd, (struct sockaddr*)&address, &size) < 0) die("getsockname");
  printf("%u\n", ntohs(address.sin_port));
  fflush(stdout);
  return fd;
}

static void accept_all(int epoll_fd, int listener) {
  for (;;) {
    const int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
    if (fd < 0) return;
    if (client_count == kMaxClients) {
      close(fd);
      continue;
    }
    struct epoll_event event = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0) die("epoll_ctl");
    clients[client_count++] = fd;
    (void)send(fd, "hello\n", 6, MSG_NOSIGNAL);
  }
}

static void drop_client(int fd) {
  for (size_t i = 0; i < client_count; ++i) {
    if (clients[i] == fd) {
      clients[i] = clients[--client_count];
      break;
    }
  }
  close(fd);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fputs("usage: chat_floor PORT\n", stderr);
    return 2;
  }
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_signal;
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);
  const int listener = open_listener(strtol(argv[1], NULL, 10));
  const int epoll_fd = epoll_create1(0);
  if (epoll_fd < 0) die("epoll_create1");
  struct epoll_event event = {.events = EPOLLIN, .data.fd = listener};
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &event) < 0) die("epoll_ctl");
  static char chunk[kChunk];
  unsigned long long deliveries = 0;
  unsigned long long dropped = 0;
  struct epoll_event events[kEvents];
  while (!stopping) {
    const int ready = epoll_wait(epoll_fd, events, kEvents, -1);
    for (int i = 0; i < ready; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listener) {
        accept_all(epoll_fd, listener);
        continue;
      }
      const ssize_t size = recv(fd, chunk, sizeof chunk, 0);
      if (size <= 0) {
        if (size == 0 || errno != EAGAIN) drop_client(fd);
        continue;
      }
      for (size_t c = 0; c < client_count; ++c) {
        if (clients[c] == fd) continue;
        if (send(clients[c], chunk, (size_t)size, MSG_NOSIGNAL | MSG_DONTWAIT) == size) {
          ++deliveries;
        } else {
          ++dropped;
        }
      }
    }
  }
  fprintf(stderr, "deliveries %llu dropped %llu\n", deliveries, dropped);
  return 0;
}
