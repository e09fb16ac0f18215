package org.gantry.op.firmware.internal;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP/1.1 server on 127.0.0.1 and a free port, written on a raw {@link ServerSocket} so that a
 * test can make it misbehave: stall or cut the connection after some bytes, trickle, send more than
 * it declares, answer 403 for an expired URL. Serves one artifact per path, with {@code Range}
 * requests and an ETag. Every request is recorded.
 */
final class FaultServer implements AutoCloseable {

  /** How to answer the next requests for a path; each fault applies to the first {@code times}. */
  static final class Behaviour {
    volatile byte[] body;
    volatile int cutAfter = -1;
    final AtomicInteger cutTimes = new AtomicInteger();
    volatile int stallAfter = -1;
    final AtomicInteger stallTimes = new AtomicInteger();
    volatile long trickleMillis;
    volatile int extraBytes;
    volatile boolean lieLength;
    volatile boolean forbidden;
    volatile boolean expireOnCut;
    volatile boolean ignoreRange;
    volatile int status = 200;

    Behaviour(byte[] body) {
      this.body = body;
    }
  }

  /** A request as received. */
  record Request(String path, Map<String, String> headers) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  private final ServerSocket server;
  private final ExecutorService pool = Executors.newCachedThreadPool();
  private final Map<String, Behaviour> paths = new ConcurrentHashMap<>();
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final List<Socket> open = new CopyOnWriteArrayList<>();
  private final java.util.concurrent.CountDownLatch firstRequest =
      new java.util.concurrent.CountDownLatch(1);

  FaultServer() throws IOException {
    server = new ServerSocket();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    pool.execute(this::accept);
  }

  Behaviour serve(String path, byte[] body) {
    Behaviour b = new Behaviour(body);
    paths.put(path, b);
    return b;
  }

  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.getLocalPort() + path);
  }

  /** Waits until the server has received a request; false when none came in time. */
  boolean awaitRequest(long seconds) throws InterruptedException {
    return firstRequest.await(seconds, TimeUnit.SECONDS);
  }

  List<Request> requests() {
    return new ArrayList<>(requests);
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        open.add(s);
        pool.execute(() -> handle(s));
      } catch (IOException e) {
        return;
      }
    }
  }

  private void handle(Socket s) {
    try (s) {
      s.setSoTimeout(30_000);
      InputStream in = new BufferedInputStream(s.getInputStream());
      OutputStream out = s.getOutputStream();
      while (true) {
        String line = readLine(in);
        if (line == null || line.isEmpty()) {
          return;
        }
        String target = line.split(" ")[1];
        Map<String, String> headers = new ConcurrentHashMap<>();
        String h;
        while ((h = readLine(in)) != null && !h.isEmpty()) {
          int colon = h.indexOf(':');
          headers.put(
              h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
        }
        String path = URI.create(target).getPath();
        String query = URI.create(target).getQuery();
        requests.add(new Request(target, headers));
        firstRequest.countDown();
        Behaviour b = paths.get(path);
        if (b == null) {
          respond(out, 404, "Not Found", Map.of(), new byte[0]);
          continue;
        }
        if (b.forbidden && (query == null || !query.contains("fresh"))) {
          respond(
              out,
              403,
              "Forbidden",
              Map.of(),
              "<Error>AccessDenied: Request has expired</Error>".getBytes(StandardCharsets.UTF_8));
          continue;
        }
        if (b.status != 200) {
          respond(out, b.status, "Status", Map.of(), new byte[0]);
          continue;
        }
        if (!body(b, headers, out)) {
          return;
        }
      }
    } catch (IOException | InterruptedException e) {
      // the client went away or the test closed the server
    }
  }

  /** Sends the body; false when the connection must be closed (a fault happened). */
  private static boolean body(Behaviour b, Map<String, String> headers, OutputStream out)
      throws IOException, InterruptedException {
    byte[] body = b.body;
    int from = 0;
    String range = headers.get("range");
    int status = 200;
    StringBuilder head = new StringBuilder();
    if (range != null && !b.ignoreRange) {
      from = Integer.parseInt(range.replaceAll("bytes=(\\d+)-.*", "$1"));
      if (from >= body.length) {
        out.write(
            ("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */"
                    + body.length
                    + "\r\nContent-Length: 0\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return true;
      }
      status = 206;
      head.append("Content-Range: bytes ")
          .append(from)
          .append('-')
          .append(body.length - 1)
          .append('/')
          .append(body.length)
          .append("\r\n");
    }
    int length = body.length - from + b.extraBytes;
    if (!b.lieLength) {
      head.append("Content-Length: ").append(length).append("\r\n");
    } else {
      head.append("Content-Length: ").append(body.length - from).append("\r\n");
    }
    head.append("ETag: \"v1\"\r\n");
    out.write(
        ("HTTP/1.1 "
                + status
                + (status == 200 ? " OK" : " Partial Content")
                + "\r\n"
                + head
                + "\r\n")
            .getBytes(StandardCharsets.US_ASCII));
    int sent = 0;
    int cut = b.cutAfter >= 0 && b.cutTimes.getAndDecrement() > 0 ? b.cutAfter : -1;
    int stall = b.stallAfter >= 0 && b.stallTimes.getAndDecrement() > 0 ? b.stallAfter : -1;
    int end = body.length - from;
    int chunk = b.trickleMillis > 0 ? 1 : 64 * 1024;
    while (sent < end + b.extraBytes) {
      if (cut >= 0 && sent >= cut) {
        out.flush();
        if (b.expireOnCut) {
          b.forbidden = true;
        }
        return false;
      }
      if (stall >= 0 && sent >= stall) {
        out.flush();
        TimeUnit.SECONDS.sleep(20);
        return false;
      }
      int n = Math.min(chunk, end + b.extraBytes - sent);
      if (cut >= 0) {
        n = Math.min(n, Math.max(1, cut - sent));
      }
      if (stall >= 0) {
        n = Math.min(n, Math.max(1, stall - sent));
      }
      byte[] piece = new byte[n];
      for (int i = 0; i < n; i++) {
        int at = from + sent + i;
        piece[i] = at < body.length ? body[at] : (byte) 'X';
      }
      out.write(piece);
      sent += n;
      if (b.trickleMillis > 0) {
        out.flush();
        TimeUnit.MILLISECONDS.sleep(b.trickleMillis);
      }
    }
    out.flush();
    return true;
  }

  private static void respond(
      OutputStream out, int status, String reason, Map<String, String> h, byte[] body)
      throws IOException {
    StringBuilder sb = new StringBuilder("HTTP/1.1 " + status + " " + reason + "\r\n");
    h.forEach((k, v) -> sb.append(k).append(": ").append(v).append("\r\n"));
    sb.append("Content-Length: ").append(body.length).append("\r\n\r\n");
    out.write(sb.toString().getBytes(StandardCharsets.US_ASCII));
    out.write(body);
    out.flush();
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        int len = sb.length();
        return len > 0 && sb.charAt(len - 1) == '\r' ? sb.substring(0, len - 1) : sb.toString();
      }
      sb.append((char) c);
    }
    return sb.length() == 0 ? null : sb.toString();
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : open) {
      s.close();
    }
    pool.shutdownNow();
  }
}
