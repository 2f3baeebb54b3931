/*
 * A client that behaves like the course's C client (api.c, kvs_connect and friends): it makes its
 * three FIFOs, writes the 121-byte connect request on the registration FIFO, opens its FIFOs with
 * blocking opens, reads the 2-byte connect answer as soon as its response FIFO is open, then serves
 * commands from stdin and prints notifications from a second thread, as the course's client does.
 *
 * Usage: course-client <client_id> <register_fifo> [order]
 *   order: the FIFOs in the order they are opened, comma-separated, default "resp,req,notif" (the
 *   course's own order). Leaving out req or notif makes a client that never opens it: after the
 *   answer it waits for the end of stdin, then exits 2.
 * Commands on stdin: SUBSCRIBE k | SUBSCRIBE [k] | UNSUBSCRIBE k | DELAY ms | DISCONNECT.
 * Exit: 0 after DISCONNECT, 1 when the server ends the session or refuses the connection.
 *
 * The test suite compiles it with gcc (test/e2e/course-client.test.ts).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PIPE_FIELD 40
#define KEY_FIELD 41

enum { OP_CONNECT = 1, OP_DISCONNECT = 2, OP_SUBSCRIBE = 3, OP_UNSUBSCRIBE = 4 };

static char req_path[256], resp_path[256], notif_path[256];
static int req_fd = -1, resp_fd = -1, notif_fd = -1;

static const char *op_name(int op) {
  switch (op) {
    case OP_CONNECT: return "connect";
    case OP_DISCONNECT: return "disconnect";
    case OP_SUBSCRIBE: return "subscribe";
    case OP_UNSUBSCRIBE: return "unsubscribe";
    default: return "?";
  }
}

static int read_all(int fd, void *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, (char *)buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

static int write_all(int fd, const void *buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = write(fd, (const char *)buf + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    done += (size_t)w;
  }
  return 0;
}

static void cleanup(void) {
  if (req_fd >= 0) close(req_fd);
  if (resp_fd >= 0) close(resp_fd);
  if (notif_fd >= 0) close(notif_fd);
  unlink(req_path);
  unlink(resp_path);
  unlink(notif_path);
}

/* Reads one response, prints it as the course's client does; -1 when the server closed. */
static int read_response(int expected_op) {
  unsigned char answer[2];
  if (read_all(resp_fd, answer, 2) != 0) {
    fprintf(stderr, "course-client: the server closed the session\n");
    return -1;
  }
  if (answer[0] != expected_op) {
    fprintf(stderr, "course-client: answer for op %d while waiting for op %d\n", answer[0], expected_op);
    return -1;
  }
  printf("Server returned %d for operation: %s\n", answer[1], op_name(answer[0]));
  return answer[1];
}

static void *notifications(void *arg) {
  (void)arg;
  char frame[2 * KEY_FIELD + 1];
  for (;;) {
    if (read_all(notif_fd, frame, 2 * KEY_FIELD) != 0) return NULL;
    frame[KEY_FIELD - 1] = '\0';
    frame[2 * KEY_FIELD - 1] = '\0';
    printf("(%s,%s)\n", frame, frame + KEY_FIELD);
  }
}

static int open_fifo(const char *name) {
  if (strcmp(name, "req") == 0) return req_fd = open(req_path, O_WRONLY);
  if (strcmp(name, "resp") == 0) return resp_fd = open(resp_path, O_RDONLY);
  if (strcmp(name, "notif") == 0) return notif_fd = open(notif_path, O_RDONLY);
  fprintf(stderr, "course-client: unknown FIFO '%s' in the order\n", name);
  exit(2);
}

static int key_request(int op, const char *key) {
  unsigned char frame[1 + KEY_FIELD];
  memset(frame, 0, sizeof frame);
  frame[0] = (unsigned char)op;
  strncpy((char *)frame + 1, key, KEY_FIELD - 1);
  if (write_all(req_fd, frame, sizeof frame) != 0) return -1;
  return read_response(op);
}

/* "k" or "[k]" after the command word. */
static char *key_of(char *arg) {
  while (*arg == ' ' || *arg == '\t') arg++;
  if (*arg == '[') arg++;
  char *end = arg + strcspn(arg, "] \t\r\n");
  *end = '\0';
  return arg;
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 4) {
    fprintf(stderr, "Usage: %s <client_id> <register_fifo> [order]\n", argv[0]);
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  snprintf(req_path, sizeof req_path, "/tmp/req%s", argv[1]);
  snprintf(resp_path, sizeof resp_path, "/tmp/resp%s", argv[1]);
  snprintf(notif_path, sizeof notif_path, "/tmp/notif%s", argv[1]);
  char order[64];
  snprintf(order, sizeof order, "%s", argc == 4 ? argv[3] : "resp,req,notif");

  /* As the course's client: remove leftovers of its own, make fresh FIFOs. */
  unlink(req_path);
  unlink(resp_path);
  unlink(notif_path);
  if (mkfifo(req_path, 0640) != 0 || mkfifo(resp_path, 0640) != 0 || mkfifo(notif_path, 0640) != 0) {
    perror("course-client: mkfifo");
    cleanup();
    return 1;
  }

  unsigned char connect[1 + 3 * PIPE_FIELD];
  memset(connect, 0, sizeof connect);
  connect[0] = OP_CONNECT;
  strncpy((char *)connect + 1, req_path, PIPE_FIELD);
  strncpy((char *)connect + 1 + PIPE_FIELD, resp_path, PIPE_FIELD);
  strncpy((char *)connect + 1 + 2 * PIPE_FIELD, notif_path, PIPE_FIELD);
  int server_fd = open(argv[2], O_WRONLY);
  if (server_fd < 0 || write_all(server_fd, connect, sizeof connect) != 0) {
    perror("course-client: registration FIFO");
    cleanup();
    return 1;
  }
  close(server_fd);

  for (char *name = strtok(order, ","); name != NULL; name = strtok(NULL, ",")) {
    if (open_fifo(name) < 0) {
      fprintf(stderr, "course-client: open %s: %s\n", name, strerror(errno));
      cleanup();
      return 1;
    }
    fprintf(stderr, "course-client: opened %s\n", name);
    if (strcmp(name, "resp") == 0) {
      int result = read_response(OP_CONNECT);
      if (result != 0) {
        cleanup();
        return 1;
      }
    }
  }
  if (req_fd < 0 || notif_fd < 0 || resp_fd < 0) {
    /* A client that never opens some of its FIFOs: it stays until its stdin ends. */
    char ignored[256];
    while (fgets(ignored, sizeof ignored, stdin) != NULL) {}
    cleanup();
    return 2;
  }

  pthread_t notifier;
  pthread_create(&notifier, NULL, notifications, NULL);
  char line[256];
  int status = 0;
  while (fgets(line, sizeof line, stdin) != NULL) {
    int result = 0;
    if (strncmp(line, "SUBSCRIBE", 9) == 0) result = key_request(OP_SUBSCRIBE, key_of(line + 9));
    else if (strncmp(line, "UNSUBSCRIBE", 11) == 0) result = key_request(OP_UNSUBSCRIBE, key_of(line + 11));
    else if (strncmp(line, "DELAY", 5) == 0) usleep((useconds_t)atoi(line + 5) * 1000);
    else if (strncmp(line, "DISCONNECT", 10) == 0) break;
    if (result < 0) {
      status = 1;
      break;
    }
  }
  if (status == 0) {
    unsigned char op = OP_DISCONNECT;
    if (write_all(req_fd, &op, 1) != 0 || read_response(OP_DISCONNECT) != 0) status = 1;
  }
  /* The server closes the notification FIFO as the session ends: the thread sees EOF. */
  if (status == 0) pthread_join(notifier, NULL);
  cleanup();
  return status;
}
