// echo_reference: the baseline that bench/echo.sh holds `sockit serve echo` against. An echo
// server (RFC 862, TCP) in plain C as a careful programmer writes one to be fast: THREADS
// threads (one per core, say), each with its own epoll (edge-triggered) and its own
// SO_REUSEPORT listener on the same port, a 64 KiB buffer per thread, and per connection
// nothing but 16 bytes until a peer stops reading.
//
//   echo_reference [-t THREADS] [-p PORT]
//
// Listens on 127.0.0.1:PORT (0, the default: a port the OS chooses), prints "port N" once
// every listener is up, and serves until SIGTERM or SIGINT.
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

enum { BUFFER_SIZE = 64 * 1024, MAX_EVENTS = 256, MAX_THREADS = 1024 };

// The part of an echo the peer has not taken yet.
struct Backlog {
  size_t length;
  size_t sent;
  char data[];
};

struct Connection {
  int fd;
  struct Backlog* backlog;  // allocated only while the peer is not reading
};

struct Worker {
  pthread_t thread;
  int listener;
  int epoll;
};

static void die(const char* what) {
  fprintf(stderr, "echo_reference: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void usage(void) {
  fputs("usage: echo_reference [-t THREADS] [-p PORT]\n", stderr);
  exit(2);
}

static long parse_number(const char* text, long max) {
  char* end = NULL;
  errno = 0;
  const long value = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 0 || value > max) usage();
  return value;
}

// Ten thousand idle clients need more descriptors than the usual soft limit of 1024.
static void raise_nofile_limit(void) {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) die("setrlimit");
  }
}

static int open_listener(in_port_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  const int on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
    die("setsockopt");
  }
  struct sockaddr_in address = {
      .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(fd, (struct sockaddr*)&address, sizeof address) != 0) die("bind");
  if (listen(fd, SOMAXCONN) != 0) die("listen");
  return fd;
}

static in_port_t bound_port(int fd) {
  struct sockaddr_in address;
  socklen_t length = sizeof address;
  if (getsockname(fd, (struct sockaddr*)&address, &length) != 0) die("getsockname");
  return ntohs(address.sin_port);
}

static void close_connection(struct Connection* connection) {
  close(connection->fd);
  free(connection->backlog);
  free(connection);
}

// Sends what it can without blocking: the count sent, or -1 on a failed connection.
static ssize_t send_now(int fd, const char* data, size_t length) {
  size_t sent = 0;
  while (sent < length) {
    const ssize_t n = send(fd, data + sent, length - sent, MSG_NOSIGNAL);
    if (n >= 0) {
      sent += (size_t)n;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      break;
    } else if (errno != EINTR) {
      return -1;
    }
  }
  return (ssize_t)sent;
}

// Sends more of the backlog: 1 once it is gone, 0 while the peer still is not reading, -1
// on a failed connection.
static int drain(struct Connection* connection) {
  struct Backlog* backlog = connection->backlog;
  const ssize_t n =
      send_now(connection->fd, backlog->data + backlog->sent, backlog->length - backlog->sent);
  if (n < 0) return -1;
  backlog->sent += (size_t)n;
  if (backlog->sent < backlog->length) return 0;
  free(backlog);
  connection->backlog = NULL;
  return 1;
}

static int keep_backlog(struct Connection* connection, const char* rest, size_t length) {
  struct Backlog* backlog = malloc(sizeof *backlog + length);
  if (backlog == NULL) return -1;
  backlog->length = length;
  backlog->sent = 0;
  memcpy(backlog->data, rest, length);
  connection->backlog = backlog;
  return 0;
}

// Echoes what has arrived: 0 when it has to wait for the next edge, -1 when the connection
// is over. A read shorter than the buffer emptied the receive queue, and new data brings a
// new edge, so it stops there without the extra recv that would only say EAGAIN; to see a
// pending end of stream, to_end makes it read until EAGAIN.
static int echo(struct Connection* connection, char* buffer, bool to_end) {
  for (;;) {
    const ssize_t n = recv(connection->fd, buffer, BUFFER_SIZE, 0);
    if (n == 0) return -1;
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    }
    const ssize_t sent = send_now(connection->fd, buffer, (size_t)n);
    if (sent < 0) return -1;
    // Back-pressure: no more reading until the peer takes the rest (EPOLLOUT).
    if (sent < n) return keep_backlog(connection, buffer + sent, (size_t)(n - sent));
    if (n < BUFFER_SIZE && !to_end) return 0;
  }
}

static void serve_connection(struct Connection* connection, uint32_t events, char* buffer) {
  bool to_end = (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
  if (connection->backlog != NULL) {
    const int drained = drain(connection);
    if (drained < 0) {
      close_connection(connection);
      return;
    }
    if (drained == 0) return;
    // Edges that came while the backlog was pending were not read: read to EAGAIN.
    to_end = true;
  } else if (!to_end && (events & EPOLLIN) == 0) {
    return;  // room to write, and nothing waiting to be written
  }
  if (echo(connection, buffer, to_end) < 0) close_connection(connection);
}

static void accept_all(const struct Worker* worker) {
  for (;;) {
    const int fd = accept4(worker->listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) perror("echo_reference: accept4");
      return;
    }
    struct Connection* connection = malloc(sizeof *connection);
    if (connection == NULL) {
      close(fd);
      continue;
    }
    connection->fd = fd;
    connection->backlog = NULL;
    // Both directions once, for good: no epoll_ctl per back-pressure episode.
    struct epoll_event event = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                .data.ptr = connection};
    if (epoll_ctl(worker->epoll, EPOLL_CTL_ADD, fd, &event) != 0) {
      perror("echo_reference: epoll_ctl");
      close_connection(connection);
    }
  }
}

static void* serve(void* argument) {
  const struct Worker* worker = argument;
  char* buffer = malloc(BUFFER_SIZE);
  if (buffer == NULL) die("malloc");
  struct epoll_event events[MAX_EVENTS];
  for (;;) {
    const int n = epoll_wait(worker->epoll, events, MAX_EVENTS, -1);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == NULL) {
        accept_all(worker);
      } else {
        serve_connection(events[i].data.ptr, events[i].events, buffer);
      }
    }
  }
  return NULL;
}

static void start_worker(struct Worker* worker) {
  worker->epoll = epoll_create1(EPOLL_CLOEXEC);
  if (worker->epoll < 0) die("epoll_create1");
  struct epoll_event event = {.events = EPOLLIN | EPOLLET, .data.ptr = NULL};
  if (epoll_ctl(worker->epoll, EPOLL_CTL_ADD, worker->listener, &event) != 0) die("epoll_ctl");
  const int failed = pthread_create(&worker->thread, NULL, serve, worker);
  if (failed != 0) {
    errno = failed;
    die("pthread_create");
  }
}

int main(int argc, char** argv) {
  long threads = 1;
  long port = 0;
  for (int option; (option = getopt(argc, argv, "t:p:")) != -1;) {
    if (option == 't') {
      threads = parse_number(optarg, MAX_THREADS);
    } else if (option == 'p') {
      port = parse_number(optarg, 65535);
    } else {
      usage();
    }
  }
  if (optind != argc || threads < 1) usage();
  raise_nofile_limit();

  // Workers inherit the mask: the signals wait for sigwait below.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);

  static struct Worker workers[MAX_THREADS];
  // Every listener is bound before "port N" goes out, so none misses its share of clients.
  workers[0].listener = open_listener((in_port_t)port);
  const in_port_t chosen = bound_port(workers[0].listener);
  for (long i = 1; i < threads; ++i)
    workers[i].listener = open_listener(chosen);
  for (long i = 0; i < threads; ++i)
    start_worker(&workers[i]);
  printf("port %u\n", (unsigned)chosen);
  fflush(stdout);

  int signal_number = 0;
  sigwait(&stop, &signal_number);
  // Nothing to flush or hand over: the kernel closes every connection as the process ends.
  return 0;
}
