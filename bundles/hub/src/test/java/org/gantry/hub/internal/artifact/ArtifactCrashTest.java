package org.gantry.hub.internal.artifact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An upload killed with SIGKILL half-way: the old artifact stays whole and the store recovers. */
class ArtifactCrashTest {
  private static final String READY = "half-written";

  @TempDir Path dir;

  /**
   * The child process: uploads a new version of {@code b/k}, announces when half of it is on disk,
   * and then waits for the kill.
   */
  public static void main(String[] args) throws Exception {
    ArtifactStore store = new ArtifactStore(Paths.get(args[0]));
    InputStream slow =
        new InputStream() {
          private int sent;

          @Override
          public int read() {
            throw new UnsupportedOperationException("read in blocks");
          }

          @Override
          public int read(byte[] b, int off, int len) {
            if (sent >= 1 << 20) {
              System.out.println(READY);
              System.out.flush();
              try {
                // The parent kills it well before; an orphaned child still ends, without storing.
                Thread.sleep(120_000);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              Runtime.getRuntime().halt(3);
              return -1;
            }
            int n = Math.min(len, 64 * 1024);
            java.util.Arrays.fill(b, off, off + n, (byte) 'n');
            sent += n;
            return n;
          }
        };
    store.put("b/k", slow, 1L << 30, null);
  }

  private static List<String> temps(Path root) throws Exception {
    try (Stream<Path> s = Files.walk(root)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList();
    }
  }

  @Test
  void aKilledUploadLeavesTheOldArtifactWhole() throws Exception {
    byte[] old = "the old version".getBytes(StandardCharsets.UTF_8);
    ArtifactStore.Artifact before =
        new ArtifactStore(dir).put("b/k", new ByteArrayInputStream(old), 100, null);
    Process child =
        new ProcessBuilder(
                Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                ArtifactCrashTest.class.getName(),
                dir.toString())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    try {
      CompletableFuture<Boolean> ready =
          CompletableFuture.supplyAsync(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                  for (String line = r.readLine(); line != null; line = r.readLine()) {
                    if (line.contains(READY)) {
                      return true;
                    }
                  }
                  return false;
                } catch (java.io.IOException e) {
                  return false;
                }
              });
      assertTrue(ready.get(60, TimeUnit.SECONDS), "the child reached the middle of its upload");
      child.destroyForcibly();
      assertTrue(child.waitFor(30, TimeUnit.SECONDS));
    } finally {
      child.destroyForcibly();
    }
    assertEquals(1, temps(dir).size(), "the half-written upload is still there");
    ArtifactStore reopened = new ArtifactStore(dir);
    assertEquals(List.of(), temps(dir));
    assertEquals(before, reopened.find("b/k").orElseThrow());
    assertEquals("the old version", Files.readString(dir.resolve("b/k")));
  }
}
