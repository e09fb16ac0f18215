package org.gantry.op.firmware.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.gantry.api.operation.OperationResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Gantry's pipeline (download with streamed SHA-256, ECDSA signature check, tar.gz extraction into
 * a slot, slot switch) against {@code curl -o f && sha256sum -c && tar xzf f} on the same 200 MB
 * artifact and the same loopback HTTP server, alternating, in one run. Prints figures and the ratio
 * curl-pipeline time / Gantry time (at least 1.0: Gantry is as fast or faster). Not part of the
 * normal test run: {@code mvn -B test -pl bundles/op-firmware -Pbench} ({@code
 * -Dgantry.bench.mb=200 -Dgantry.bench.rounds=3}). No timed assertion: figures only.
 */
@EnabledIfSystemProperty(named = "gantry.bench", matches = "true")
class PipelineBenchmark {

  private static final int MB = 1024 * 1024;

  @Test
  void gantryPipelineAgainstCurlSha256sumTar() throws Exception {
    int sizeMb = Integer.getInteger("gantry.bench.mb", 200);
    int rounds = Integer.getInteger("gantry.bench.rounds", 3);
    Path dir = Files.createDirectories(Path.of("target", "bench").toAbsolutePath());
    Path artifact = dir.resolve("artifact-" + sizeMb + "mb.tar.gz");
    if (!Files.exists(artifact)) {
      generate(artifact, sizeMb);
    }
    byte[] sha = Fetch.hash(artifact);
    String hex = HexFormat.of().formatHex(sha);
    Pki.Identity ca = Pki.ca("Bench CA");
    Pki.Identity signer = Pki.signer("bench-signer", Pki.ec(), ca);
    Files.writeString(dir.resolve("trust.pem"), ca.pem());
    String signature = signFile(signer.keys().getPrivate(), artifact);

    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.setExecutor(Executors.newFixedThreadPool(2));
    server.createContext(
        "/fw.tar.gz",
        ex -> {
          ex.getResponseHeaders().add("Content-Type", "application/octet-stream");
          ex.sendResponseHeaders(200, Files.size(artifact));
          try (OutputStream out = ex.getResponseBody()) {
            Files.copy(artifact, out);
          }
        });
    server.start();
    String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/fw.tar.gz";
    List<Double> gantry = new ArrayList<>();
    List<Double> shell = new ArrayList<>();
    try {
      for (int i = 0; i < rounds; i++) {
        gantry.add(runGantry(dir, i, url, Files.size(artifact), hex, signature, signer));
        shell.add(runShell(dir, i, url, hex));
      }
    } finally {
      server.stop(0);
      ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
    double g = median(gantry);
    double s = median(shell);
    double mb = Files.size(artifact) / (double) MB;
    System.out.printf(
        Locale.ROOT,
        "%nfirmware pipeline benchmark: %.1f MB tar.gz, %d rounds, loopback HTTP, %d cores%n"
            + "  gantry  (download+sha256+ECDSA+extract+switch)  median %.2f s  (%.0f MB/s)  runs %s%n"
            + "  shell   (curl -o f && sha256sum -c && tar xzf f) median %.2f s  (%.0f MB/s)  runs %s%n"
            + "  ratio shell/gantry = %.2f  (>= 1.0: Gantry at least as fast)%n",
        mb,
        rounds,
        Runtime.getRuntime().availableProcessors(),
        g,
        mb / g,
        fmt(gantry),
        s,
        mb / s,
        fmt(shell),
        s / g);
  }

  private static double runGantry(
      Path dir, int round, String url, long size, String hex, String signature, Pki.Identity signer)
      throws Exception {
    Path root = dir.resolve("gantry-" + round);
    Folders.deleteTree(root);
    Path work = Files.createDirectories(root.resolve("work"));
    Settings settings =
        TestConfig.in(root)
            .set("trust.store", dir.resolve("trust.pem").toString())
            .set("max.size.bytes", 4L * 1024 * MB)
            .set("download.idle.seconds", 30)
            .settings();
    FirmwareUpdateOperation op = new FirmwareUpdateOperation(settings);
    Map<String, Object> p =
        Map.of(
            "url",
            url,
            "size",
            size,
            "sha256",
            hex,
            "signature",
            signature,
            "signatureAlgorithm",
            "SHA256withECDSA",
            "certificate",
            signer.pem(),
            "version",
            "1.0." + round,
            "format",
            "tar.gz");
    long t0 = System.nanoTime();
    OperationResult r = op.execute(new TestContext(p, work));
    double secs = (System.nanoTime() - t0) / 1e9;
    assertEquals(OperationResult.Status.SUCCEEDED, r.status(), r.toString());
    Folders.deleteTree(root);
    return secs;
  }

  private static double runShell(Path dir, int round, String url, String hex) throws Exception {
    Path root = Files.createDirectories(dir.resolve("shell-" + round));
    Path out = Files.createDirectories(root.resolve("x"));
    String script =
        "set -e; cd '"
            + root
            + "'; curl -sS -o f '"
            + url
            + "' && echo '"
            + hex
            + "  f' | sha256sum -c --quiet && tar xzf f -C x";
    long t0 = System.nanoTime();
    Process pr = new ProcessBuilder("/bin/bash", "-c", script).inheritIO().start();
    if (!pr.waitFor(10, TimeUnit.MINUTES)) {
      pr.destroyForcibly();
      throw new IllegalStateException("the shell pipeline did not finish in 10 minutes");
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    assertEquals(0, pr.exitValue(), "the shell pipeline failed");
    Folders.deleteTree(root);
    return secs;
  }

  /** Files of random bytes (gzip cannot shrink them) in a tar.gz of about {@code mb} MB. */
  private static void generate(Path target, int mb) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    Random random = new Random(42);
    byte[] block = new byte[MB];
    try (Archives z = Archives.tar(tmp, true)) {
      int files = Math.max(1, mb / 10);
      for (int f = 0; f < files; f++) {
        byte[] content = new byte[(mb / files) * MB];
        for (int off = 0; off < content.length; off += MB) {
          random.nextBytes(block);
          System.arraycopy(block, 0, content, off, Math.min(MB, content.length - off));
        }
        z.file("image/part-" + f + ".bin", content, 0644);
      }
      z.file("VERSION", "bench".getBytes(StandardCharsets.UTF_8));
    }
    Files.move(tmp, target);
  }

  private static String signFile(PrivateKey key, Path file) throws Exception {
    java.security.Signature s = java.security.Signature.getInstance("SHA256withECDSA");
    s.initSign(key);
    byte[] buf = new byte[MB];
    try (var in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        s.update(buf, 0, n);
      }
    }
    return java.util.Base64.getEncoder().encodeToString(s.sign());
  }

  private static double median(List<Double> xs) {
    List<Double> s = new ArrayList<>(xs);
    Collections.sort(s);
    return s.get(s.size() / 2);
  }

  private static String fmt(List<Double> xs) {
    return xs.stream().map(x -> String.format(Locale.ROOT, "%.2f", x)).toList().toString();
  }

  @SuppressWarnings("unused")
  private static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }
}
