package org.gantry.op.firmware.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** FAULTS.md 12-15 against a misbehaving HTTP server on loopback. */
@Timeout(60)
class DownloaderTest {

  @TempDir Path tmp;
  private FaultServer server;
  private byte[] body;
  private Path part;
  private TestContext ctx;
  private Step step;

  @BeforeEach
  void setUp() throws Exception {
    server = new FaultServer();
    body = new byte[3 * 1024 * 1024 + 17];
    new Random(7).nextBytes(body);
    part = tmp.resolve("artifact.part");
    ctx = new TestContext(Map.of(), tmp);
    step = Step.of(ctx);
  }

  @AfterEach
  void tearDown() throws Exception {
    server.close();
  }

  private Downloader downloader(TestConfig c) {
    return new Downloader(c.settings());
  }

  private Downloader downloader() {
    return downloader(TestConfig.in(tmp).set("download.checkpoint.bytes", 65_536L));
  }

  private static byte[] sha(byte[] b) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(b);
  }

  @Test
  void downloadsWithStreamedDigestAndReportsProgressInBytes() throws Exception {
    server.serve("/fw.bin", body);
    Downloader.Downloaded d =
        downloader().download(step, server.uri("/fw.bin"), (long) body.length, part, () -> null);
    assertEquals(body.length, d.size());
    assertArrayEquals(sha(body), d.sha256());
    assertArrayEquals(body, Files.readAllBytes(part));
    assertEquals(Long.toString(body.length), step.checkpoint(Downloader.CP_OFFSET).orElse(null));
  }

  /** FAULTS 15: five flaps, each cutting the connection mid-body; every retry resumes by Range. */
  @Test
  void fiveNetworkFlapsResumeWithRangeAndSucceed() throws Exception {
    FaultServer.Behaviour b = server.serve("/fw.bin", body);
    b.cutAfter = 500_000;
    b.cutTimes.set(5);
    Downloader.Downloaded d =
        downloader().download(step, server.uri("/fw.bin"), (long) body.length, part, () -> null);
    assertArrayEquals(sha(body), d.sha256());
    List<FaultServer.Request> reqs = server.requests();
    assertEquals(
        6, reqs.size(), "the first request and one resumed request after each of five cuts");
    for (int i = 1; i < reqs.size(); i++) {
      assertEquals("bytes=" + (500_000L * i) + "-", reqs.get(i).header("Range"));
      assertEquals("\"v1\"", reqs.get(i).header("If-Range"));
    }
  }

  /**
   * A restart: the part file holds more than the durable checkpoint; it is cut back and re-hashed.
   */
  @Test
  void resumesAfterARestartFromTheCheckpointedOffsetAndHashesTheWholeFile() throws Exception {
    server.serve("/fw.bin", body);
    Files.write(part, java.util.Arrays.copyOf(body, 1_200_000));
    step.checkpoint(Downloader.CP_OFFSET, "1000000");
    Downloader.Downloaded d =
        downloader().download(step, server.uri("/fw.bin"), (long) body.length, part, () -> null);
    assertArrayEquals(sha(body), d.sha256());
    assertEquals("bytes=1000000-", server.requests().get(0).header("Range"));
  }

  /** FAULTS 13: a stalled server; the idle deadline ends the attempt, the retry finishes. */
  @Test
  void stalledServerHitsTheIdleDeadlineAndTheRetryResumes() throws Exception {
    FaultServer.Behaviour b = server.serve("/fw.bin", body);
    b.stallAfter = 100_000;
    b.stallTimes.set(1);
    Downloader.Downloaded d =
        downloader(TestConfig.in(tmp).set("download.idle.seconds", 1))
            .download(step, server.uri("/fw.bin"), (long) body.length, part, () -> null);
    assertArrayEquals(sha(body), d.sha256());
    assertEquals("bytes=100000-", server.requests().get(1).header("Range"));
  }

  /** FAULTS 13: a server that trickles a byte at a time never hangs the download. */
  @Test
  void trickleHitsTheTotalDeadline() throws Exception {
    FaultServer.Behaviour b = server.serve("/fw.bin", body);
    b.trickleMillis = 50;
    OperationFailure e =
        assertThrows(
            OperationFailure.class,
            () ->
                downloader(TestConfig.in(tmp).set("download.total.seconds", 2))
                    .download(step, server.uri("/fw.bin"), (long) body.length, part, () -> null));
    assertEquals(FirmwareReason.DOWNLOAD_TIMEOUT, e.code());
    assertTrue(e.getMessage().contains("download.total.seconds"), e.getMessage());
  }

  /** A stall on every attempt fails after download.attempts attempts without progress. */
  @Test
  void stallOnEveryAttemptFailsAfterTheAttempts() throws Exception {
    FaultServer.Behaviour b = server.serve("/fw.bin", body);
    b.stallAfter = 0;
    b.stallTimes.set(100);
    OperationFailure e =
        assertThrows(
            OperationFailure.class,
            () ->
                downloader(
                        TestConfig.in(tmp)
                            .set("download.idle.seconds", 1)
                            .set("download.attempts", 2))
                    .download(step, server.uri("/fw.bin"), (long) body.length, part, () -> null));
    assertEquals(FirmwareReason.DOWNLOAD_FAILED, e.code());
    assertTrue(e.getMessage().contains("download.idle.seconds"), e.getMessage());
  }

  /** FAULTS 12: more bytes than declared stops at the declared size; the part file is removed. */
  @Test
  void bodyLongerThanDeclaredIsStoppedAndRemoved() throws Exception {
    FaultServer.Behaviour b = server.serve("/fw.bin", body);
    b.extraBytes = 1_000_000;
    b.lieLength = true;
    OperationFailure e =
        assertThrows(
            OperationFailure.class,
            () ->
                downloader()
                    .download(step, server.uri("/fw.bin"), (long) body.length, part, () -> null));
    assertEquals(FirmwareReason.SIZE_EXCEEDED, e.code());
    assertFalse(Files.exists(part));
    assertFalse(step.checkpoint(Downloader.CP_OFFSET).isPresent());
  }

  /** FAULTS 12: no declared size: the configured cap bounds the disk use. */
  @Test
  void undeclaredSizeIsCappedByConfiguration() throws Exception {
    server.serve("/fw.bin", body);
    OperationFailure e =
        assertThrows(
            OperationFailure.class,
            () ->
                downloader(TestConfig.in(tmp).set("max.size.bytes", 1_000_000L))
                    .download(step, server.uri("/fw.bin"), null, part, () -> null));
    assertEquals(FirmwareReason.SIZE_EXCEEDED, e.code());
    assertTrue(e.getMessage().contains("max.size.bytes"), e.getMessage());
    assertFalse(Files.exists(part));
  }

  /** FAULTS 14: the URL expires mid-download; a fresh one from the document resumes by Range. */
  @Test
  void expiredUrlFetchesAFreshOneAndResumesAtTheSameOffset() throws Exception {
    FaultServer.Behaviour b = server.serve("/fw.bin", body);
    b.cutAfter = 1_000_000;
    b.cutTimes.set(1);
    b.expireOnCut = true;
    java.net.URI fresh = server.uri("/fw.bin?X-Amz-Signature=fresh");
    Downloader.Downloaded d =
        downloader()
            .download(
                step,
                server.uri("/fw.bin?X-Amz-Signature=old"),
                (long) body.length,
                part,
                () -> {
                  ctx.refreshes.incrementAndGet();
                  return fresh;
                });
    assertArrayEquals(sha(body), d.sha256(), "the whole file is hashed across both URLs");
    assertEquals(1, ctx.refreshes.get());
    List<FaultServer.Request> reqs = server.requests();
    assertEquals(3, reqs.size());
    assertTrue(reqs.get(1).path().contains("old"), "the retry with the old URL got the 403");
    assertTrue(reqs.get(2).path().contains("fresh"));
    assertEquals("bytes=1000000-", reqs.get(2).header("Range"));
  }

  /** A 403 that the document cannot fix (it gives the same URL again) fails with a reason. */
  @Test
  void forbiddenWithNoFreshUrlFails() throws Exception {
    FaultServer.Behaviour b = server.serve("/fw.bin", body);
    b.forbidden = true;
    java.net.URI url = server.uri("/fw.bin?X-Amz-Signature=old");
    OperationFailure e =
        assertThrows(
            OperationFailure.class,
            () -> downloader().download(step, url, (long) body.length, part, () -> url));
    assertEquals(FirmwareReason.URL_EXPIRED, e.code());
  }

  @Test
  void notFoundIsNotRetried() throws Exception {
    OperationFailure e =
        assertThrows(
            OperationFailure.class,
            () -> downloader().download(step, server.uri("/missing.bin"), 10L, part, () -> null));
    assertEquals(FirmwareReason.HTTP_STATUS, e.code());
    assertEquals(1, server.requests().size());
    assertFalse(e.getMessage().contains("?"), "the message carries no query string");
  }

  /** A server that ignores Range and sends the whole body again: the download starts over. */
  @Test
  void serverIgnoringRangeStartsOver() throws Exception {
    FaultServer.Behaviour b = server.serve("/fw.bin", body);
    b.cutAfter = 700_000;
    b.cutTimes.set(1);
    b.ignoreRange = true;
    Downloader.Downloaded d =
        downloader().download(step, server.uri("/fw.bin"), (long) body.length, part, () -> null);
    assertArrayEquals(sha(body), d.sha256());
    assertArrayEquals(body, Files.readAllBytes(part));
  }

  /** FAULTS 16: a write that finds the disk full fails with DISK_FULL and removes the part file. */
  @Test
  void diskFullFailsAndRemovesThePartFile() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        Files.isWritable(Path.of("/dev/full")), "/dev/full is needed to simulate a full disk");
    server.serve("/fw.bin", body);
    // the part file is a link to /dev/full, where every write fails with ENOSPC
    Files.createSymbolicLink(part, Path.of("/dev/full"));
    OperationFailure e =
        assertThrows(
            OperationFailure.class,
            () -> downloader().download(step, server.uri("/fw.bin"), null, part, () -> null));
    assertEquals(FirmwareReason.DISK_FULL, e.code());
    assertFalse(Files.exists(part, java.nio.file.LinkOption.NOFOLLOW_LINKS));
  }

  /** The 10 s limit is far below the 30 s idle deadline and the server's 20 s stall. */
  @Test
  @Timeout(10)
  void cancellationStopsTheDownload() throws Exception {
    FaultServer.Behaviour b = server.serve("/fw.bin", body);
    b.stallAfter = 1000;
    b.stallTimes.set(1);
    Thread canceller =
        new Thread(
            () -> {
              try {
                if (server.awaitRequest(10)) {
                  ctx.cancel();
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    canceller.start();
    OperationFailure e =
        assertThrows(
            OperationFailure.class,
            () ->
                downloader(TestConfig.in(tmp).set("download.idle.seconds", 30))
                    .download(step, server.uri("/fw.bin"), (long) body.length, part, () -> null));
    canceller.join(5000);
    assertTrue(
        e.code() == FirmwareReason.CANCELLED, "cancelled long before the 30 s idle deadline");
  }
}
