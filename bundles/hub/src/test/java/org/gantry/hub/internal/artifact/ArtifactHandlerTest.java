package org.gantry.hub.internal.artifact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The download and upload handlers on real JDK HTTP servers on 127.0.0.1, driven with the JDK's
 * HttpClient.
 */
class ArtifactHandlerTest {
  private static final Instant T0 = Instant.parse("2026-12-02T12:00:00Z");
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;
  private ArtifactStore store;
  private TestClock clock;
  private UrlSigner signer;
  private HttpServer downloads;
  private HttpServer management;
  private ExecutorService threads;
  private HttpClient http;
  private volatile CompletableFuture<Long> allocatedByLastDownload = new CompletableFuture<>();
  private final byte[] small = new byte[1000];

  @BeforeEach
  void start() throws Exception {
    store = new ArtifactStore(dir.resolve("artifacts"));
    new Random(1).nextBytes(small);
    store.put("fw-bucket/gw/small.bin", new ByteArrayInputStream(small), 1 << 20, null);
    store.put("fw-bucket/empty", new ByteArrayInputStream(new byte[0]), 1, null);
    clock = new TestClock(T0);
    threads = Executors.newFixedThreadPool(4);
    downloads = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    downloads.setExecutor(threads);
    signer =
        UrlSigner.open(
            dir, URI.create("http://127.0.0.1:" + downloads.getAddress().getPort()), clock);
    HttpHandler handler = new ArtifactHandler(store, signer);
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    downloads.createContext(
        UrlSigner.PATH_PREFIX,
        ex -> {
          long before = mx.getCurrentThreadAllocatedBytes();
          try {
            handler.handle(ex);
          } finally {
            allocatedByLastDownload.complete(mx.getCurrentThreadAllocatedBytes() - before);
          }
        });
    downloads.start();
    management = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    management.setExecutor(threads);
    management.createContext(UrlSigner.PATH_PREFIX, new ArtifactUploadHandler(store, 4096));
    management.start();
    http = HttpClient.newBuilder().connectTimeout(WAIT).build();
  }

  @AfterEach
  void stop() {
    downloads.stop(0);
    management.stop(0);
    threads.shutdownNow();
  }

  private HttpResponse<byte[]> get(String url, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(WAIT);
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private HttpResponse<byte[]> send(String method, String url, byte[] body, String... headers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(WAIT)
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static String text(HttpResponse<byte[]> r) {
    return new String(r.body(), StandardCharsets.UTF_8);
  }

  private static String header(HttpResponse<?> r, String name) {
    return r.headers().firstValue(name).orElse(null);
  }

  private String smallUrl() throws Exception {
    return signer.sign("fw-bucket/gw/small.bin", 600);
  }

  @Test
  void getSendsTheWholeArtifactWithItsHeaders() throws Exception {
    HttpResponse<byte[]> r = get(smallUrl());
    assertEquals(200, r.statusCode());
    assertArrayEquals(small, r.body());
    assertEquals("1000", header(r, "Content-Length"));
    assertEquals("bytes", header(r, "Accept-Ranges"));
    assertEquals("\"" + ArtifactStoreTest.sha256(small) + "\"", header(r, "ETag"));
    assertEquals("application/octet-stream", header(r, "Content-Type"));
  }

  @Test
  void headSendsTheHeadersOnly() throws Exception {
    HttpResponse<byte[]> r = send("HEAD", smallUrl(), null);
    assertEquals(200, r.statusCode());
    assertEquals(0, r.body().length);
    assertEquals("1000", header(r, "Content-Length"));
    assertEquals("bytes", header(r, "Accept-Ranges"));
    assertEquals("\"" + ArtifactStoreTest.sha256(small) + "\"", header(r, "ETag"));
    HttpResponse<byte[]> ranged = send("HEAD", smallUrl(), null, "Range", "bytes=10-19");
    assertEquals(206, ranged.statusCode());
    assertEquals("10", header(ranged, "Content-Length"));
    assertEquals("bytes 10-19/1000", header(ranged, "Content-Range"));
  }

  @Test
  void servesOneRangeOfEachForm() throws Exception {
    String url = smallUrl();
    Object[][] cases = {
      {"bytes=0-0", 0, 0},
      {"bytes=10-19", 10, 19},
      {"bytes=990-", 990, 999},
      {"bytes=-10", 990, 999},
      {"bytes=-5000", 0, 999},
      {"bytes=995-5000", 995, 999},
      {"bytes=999-999", 999, 999},
      {"bytes=0-999999999999999999999", 0, 999},
      {"BYTES = 5-6", -1, -1},
    };
    for (Object[] c : cases) {
      HttpResponse<byte[]> r = get(url, "Range", (String) c[0]);
      int first = (Integer) c[1];
      int last = (Integer) c[2];
      if (first < 0) {
        assertEquals(200, r.statusCode(), (String) c[0]);
        continue;
      }
      assertEquals(206, r.statusCode(), (String) c[0]);
      assertEquals("bytes " + first + "-" + last + "/1000", header(r, "Content-Range"));
      assertEquals(Integer.toString(last - first + 1), header(r, "Content-Length"));
      assertArrayEquals(Arrays.copyOfRange(small, first, last + 1), r.body(), (String) c[0]);
    }
  }

  @Test
  void anUnsatisfiableRangeIs416AndAnUnusableOneIsIgnored() throws Exception {
    String url = smallUrl();
    for (String unsatisfiable : new String[] {"bytes=1000-", "bytes=1000-2000", "bytes=-0"}) {
      HttpResponse<byte[]> r = get(url, "Range", unsatisfiable);
      assertEquals(416, r.statusCode(), unsatisfiable);
      assertEquals("bytes */1000", header(r, "Content-Range"));
    }
    for (String ignored :
        new String[] {"bytes=5-1", "bytes=0-1,5-6", "items=0-1", "bytes=a-b", "bytes=", "0-1"}) {
      HttpResponse<byte[]> r = get(url, "Range", ignored);
      assertEquals(200, r.statusCode(), ignored);
      assertArrayEquals(small, r.body(), ignored);
    }
    String empty = signer.sign("fw-bucket/empty", 600);
    assertEquals(416, get(empty, "Range", "bytes=0-").statusCode());
    assertEquals(416, get(empty, "Range", "bytes=-1").statusCode());
    HttpResponse<byte[]> whole = get(empty);
    assertEquals(200, whole.statusCode());
    assertEquals(0, whole.body().length);
  }

  @Test
  void ifRangeWithAnotherEtagSendsTheWholeArtifact() throws Exception {
    String url = smallUrl();
    String etag = "\"" + ArtifactStoreTest.sha256(small) + "\"";
    assertEquals(206, get(url, "Range", "bytes=0-9", "If-Range", etag).statusCode());
    HttpResponse<byte[]> changed = get(url, "Range", "bytes=0-9", "If-Range", "\"0000\"");
    assertEquals(200, changed.statusCode());
    assertArrayEquals(small, changed.body());
  }

  @Test
  void expiredAndTamperedUrlsAre403SayingWhich() throws Exception {
    String url = signer.sign("fw-bucket/gw/small.bin", 60);
    assertEquals(200, get(url).statusCode());
    String base = url.substring(0, url.indexOf("/artifacts/"));
    String query = url.substring(url.indexOf('?') + 1);
    String expires = query.substring("expires=".length(), query.indexOf('&'));
    String signature = query.substring(query.indexOf("signature=") + "signature=".length());

    HttpResponse<byte[]> otherKey = get(base + "/artifacts/fw-bucket/gw/other.bin?" + query);
    assertEquals(403, otherKey.statusCode());
    assertTrue(text(otherKey).startsWith("tampered"), text(otherKey));

    long later = Long.parseLong(expires) + 3600;
    HttpResponse<byte[]> longer =
        get(
            base
                + "/artifacts/fw-bucket/gw/small.bin?expires="
                + later
                + "&signature="
                + signature);
    assertEquals(403, longer.statusCode());
    assertTrue(text(longer).startsWith("tampered"), text(longer));

    char c = signature.charAt(5) == 'A' ? 'B' : 'A';
    String forged = signature.substring(0, 5) + c + signature.substring(6);
    HttpResponse<byte[]> badSig =
        get(base + "/artifacts/fw-bucket/gw/small.bin?expires=" + expires + "&signature=" + forged);
    assertEquals(403, badSig.statusCode());
    assertTrue(text(badSig).startsWith("tampered"), text(badSig));

    HttpResponse<byte[]> unsigned = get(base + "/artifacts/fw-bucket/gw/small.bin");
    assertEquals(403, unsigned.statusCode());
    assertTrue(text(unsigned).startsWith("unsigned"), text(unsigned));
    HttpResponse<byte[]> twice = get(url + "&signature=" + signature);
    assertEquals(403, twice.statusCode());
    assertTrue(text(twice).startsWith("unsigned"), text(twice));

    clock.advance(Duration.ofSeconds(60));
    HttpResponse<byte[]> expired = get(url);
    assertEquals(403, expired.statusCode());
    assertTrue(text(expired).startsWith("expired"), text(expired));
    assertEquals(403, send("HEAD", url, null).statusCode());
  }

  @Test
  void unknownKeysBadPathsAndOtherMethods() throws Exception {
    HttpResponse<byte[]> missing = get(signer.sign("fw-bucket/gw/none.bin", 600));
    assertEquals(404, missing.statusCode());
    assertTrue(text(missing).startsWith("not found"), text(missing));
    String base = "http://127.0.0.1:" + downloads.getAddress().getPort();
    for (String path :
        new String[] {
          "/artifacts/../artifacts/fw-bucket/gw/small.bin",
          "/artifacts/fw-bucket/%2e%2e/%2e%2e/etc/passwd",
          "/artifacts/fw-bucket//small.bin",
          "/artifacts/%C3",
          "/artifacts/"
        }) {
      HttpResponse<byte[]> r = get(base + path + "?expires=1&signature=x");
      assertEquals(400, r.statusCode(), path);
    }
    HttpResponse<byte[]> post = send("POST", smallUrl(), new byte[] {1});
    assertEquals(405, post.statusCode());
    assertEquals("GET, HEAD", header(post, "Allow"));
    assertEquals(405, send("PUT", smallUrl(), new byte[] {1}).statusCode());
  }

  @Test
  void uploadsGoThroughTheManagementRouteOnly() throws Exception {
    String mgmt = "http://127.0.0.1:" + management.getAddress().getPort() + "/artifacts/";
    byte[] body = "new firmware".getBytes(StandardCharsets.UTF_8);
    String checksum =
        Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(body));
    HttpResponse<byte[]> put =
        send("PUT", mgmt + "fw-bucket/gw/v3%20final.bin", body, "x-amz-checksum-sha256", checksum);
    assertEquals(200, put.statusCode(), text(put));
    JsonObject answer = JsonParser.parseString(text(put)).getAsJsonObject();
    assertEquals("fw-bucket/gw/v3 final.bin", answer.get("key").getAsString());
    assertEquals(body.length, answer.get("size").getAsLong());
    assertEquals(ArtifactStoreTest.sha256(body), answer.get("sha256").getAsString());
    HttpResponse<byte[]> got = get(signer.sign("fw-bucket/gw/v3 final.bin", 600));
    assertArrayEquals(body, got.body());

    HttpResponse<byte[]> mismatch =
        send(
            "PUT",
            mgmt + "fw-bucket/gw/v4.bin",
            "other".getBytes(StandardCharsets.UTF_8),
            "x-amz-checksum-sha256",
            checksum);
    assertEquals(400, mismatch.statusCode());
    assertTrue(text(mismatch).contains("ArtifactChecksumMismatch"), text(mismatch));
    assertTrue(store.find("fw-bucket/gw/v4.bin").isEmpty());

    assertEquals(413, send("PUT", mgmt + "fw-bucket/big", new byte[4097]).statusCode());
    // without a Content-Length (chunked), the limit stops the upload while it streams
    HttpRequest chunked =
        HttpRequest.newBuilder(URI.create(mgmt + "fw-bucket/big"))
            .timeout(WAIT)
            .PUT(
                HttpRequest.BodyPublishers.ofInputStream(
                    () -> new ByteArrayInputStream(new byte[5000])))
            .build();
    HttpResponse<byte[]> tooBig = http.send(chunked, HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(413, tooBig.statusCode());
    assertTrue(store.find("fw-bucket/big").isEmpty());

    assertEquals(400, send("PUT", mgmt + "fw-bucket/%2e%2e/x", body).statusCode());
    assertEquals(409, send("PUT", mgmt + "fw-bucket/gw/small.bin/x", body).statusCode());
    HttpResponse<byte[]> get = send("GET", mgmt + "fw-bucket/gw/small.bin", null);
    assertEquals(405, get.statusCode());
    assertEquals("PUT", header(get, "Allow"));
    try (Stream<Path> s = Files.walk(store.root())) {
      assertFalse(s.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")));
    }
  }

  /** Pseudo-random bytes produced as they are read, so the test holds none of them. */
  private static InputStream generated(long size) {
    return new InputStream() {
      private final Random random = new Random(42);
      private long left = size;

      @Override
      public int read() {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (left == 0) {
          return -1;
        }
        int n = (int) Math.min(len, left);
        byte[] chunk = new byte[n];
        random.nextBytes(chunk);
        System.arraycopy(chunk, 0, b, off, n);
        left -= n;
        return n;
      }
    };
  }

  @Test
  void aBigArtifactIsStreamedNotBuffered() throws Exception {
    long size = 50L * 1024 * 1024;
    ArtifactStore.Artifact a = store.put("fw-bucket/big.img", generated(size), size, null);
    allocatedByLastDownload = new CompletableFuture<>();
    HttpResponse<InputStream> r =
        http.send(
            HttpRequest.newBuilder(URI.create(signer.sign(a.key(), 600))).timeout(WAIT).build(),
            HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, r.statusCode());
    assertEquals(Long.toString(size), header(r, "Content-Length"));
    MessageDigest digest = MessageDigest.getInstance("SHA-256");
    long received = 0;
    try (InputStream in = r.body()) {
      byte[] buf = new byte[64 * 1024];
      for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
        digest.update(buf, 0, n);
        received += n;
      }
    }
    assertEquals(size, received);
    assertEquals(a.sha256(), HexFormat.of().formatHex(digest.digest()));
    long allocated = allocatedByLastDownload.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    // Buffering the file would allocate at least its 50 MB on the serving thread.
    assertTrue(allocated < 8L * 1024 * 1024, "allocated while serving 50 MB: " + allocated);
  }

  @Test
  void aDownloadCutShortDoesNotStopTheServer() throws Exception {
    long size = 8L * 1024 * 1024;
    ArtifactStore.Artifact a = store.put("fw-bucket/cut.img", generated(size), size, null);
    allocatedByLastDownload = new CompletableFuture<>();
    HttpResponse<InputStream> r =
        http.send(
            HttpRequest.newBuilder(URI.create(signer.sign(a.key(), 600))).timeout(WAIT).build(),
            HttpResponse.BodyHandlers.ofInputStream());
    try (InputStream in = r.body()) {
      assertTrue(in.readNBytes(1000).length == 1000);
    }
    allocatedByLastDownload.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    HttpResponse<byte[]> again = get(signer.sign(a.key(), 600), "Range", "bytes=1000-1999");
    assertEquals(206, again.statusCode());
    assertEquals(1000, again.body().length);
  }
}
