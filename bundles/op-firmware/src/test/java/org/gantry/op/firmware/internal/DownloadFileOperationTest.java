package org.gantry.op.firmware.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import org.gantry.api.operation.JobParameters;
import org.gantry.api.operation.OperationException;
import org.gantry.api.operation.OperationResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** download-file: the AWS-Download-File shape and Gantry's own fields. */
class DownloadFileOperationTest {

  @TempDir Path tmp;
  private FaultServer server;
  private byte[] body;

  @BeforeEach
  void setUp() throws Exception {
    server = new FaultServer();
    body = new byte[500_000];
    new Random(5).nextBytes(body);
    server.serve("/tools/probe.tar.gz", body);
  }

  @AfterEach
  void tearDown() throws Exception {
    server.close();
  }

  private String url() {
    return server.uri("/tools/probe.tar.gz").toString() + "?X-Amz-Expires=3600&X-Amz-Signature=abc";
  }

  @Test
  void awsDownloadFileIsRefusedUnlessUnverifiedDownloadsAreAllowed() throws Exception {
    Path target = tmp.resolve("downloads/probe.tar.gz");
    Map<String, Object> p = Map.of("url", url(), "filePath", target.toString(), "runAsUser", "");
    OperationException e =
        assertThrows(
            OperationException.class,
            () ->
                new DownloadFileOperation(TestConfig.in(tmp).settings())
                    .validate(JobParameters.of(p)));
    assertEquals(FirmwareReason.UNVERIFIED_NOT_ALLOWED, e.reason());
    assertTrue(e.rejected());

    DownloadFileOperation op =
        new DownloadFileOperation(TestConfig.in(tmp).set("allow.unverified", true).settings());
    op.validate(JobParameters.of(p));
    OperationResult r = op.execute(new TestContext(p, Files.createDirectories(tmp.resolve("w"))));
    assertEquals(OperationResult.Status.SUCCEEDED, r.status());
    assertArrayEquals(body, Files.readAllBytes(target));
    assertEquals(target.toString(), r.details().get("filePath"));
  }

  @Test
  void aDigestMismatchLeavesNoFileAtTheTarget() throws Exception {
    Map<String, Object> p =
        Map.of("url", url(), "filePath", "sub/probe.tar.gz", "sha256", "00".repeat(32));
    DownloadFileOperation op = new DownloadFileOperation(TestConfig.in(tmp).settings());
    TestContext ctx = new TestContext(p, Files.createDirectories(tmp.resolve("w")));
    OperationFailure e = assertThrows(OperationFailure.class, () -> op.execute(ctx));
    assertEquals(FirmwareReason.DIGEST_MISMATCH, e.code());
    assertFalse(Files.exists(tmp.resolve("downloads/sub/probe.tar.gz")));
    assertFalse(Files.exists(Step.of(ctx).workDir().resolve(Fetch.ARTIFACT)));
  }

  @Test
  void aMatchingDigestInstallsTheFileInsideTheDownloadFolder() throws Exception {
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
    Map<String, Object> p = Map.of("url", url(), "filePath", "sub/probe.tar.gz", "sha256", sha);
    DownloadFileOperation op = new DownloadFileOperation(TestConfig.in(tmp).settings());
    OperationResult r = op.execute(new TestContext(p, Files.createDirectories(tmp.resolve("w"))));
    assertEquals(sha, r.details().get("sha256"));
    assertArrayEquals(body, Files.readAllBytes(tmp.resolve("downloads/sub/probe.tar.gz")));
  }

  /**
   * FAULTS 14 through the operation: the URL expires mid-download, the job document fetched again
   * (OperationContext.refreshParameters) gives a fresh one, the download resumes by Range and the
   * whole file's digest matches.
   */
  @Test
  void anExpiredUrlIsReplacedFromTheDocumentFetchedAgain() throws Exception {
    FaultServer.Behaviour b = server.serve("/tools/probe.tar.gz", body);
    b.cutAfter = 200_000;
    b.cutTimes.set(1);
    b.expireOnCut = true;
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
    Map<String, Object> p = Map.of("url", url(), "filePath", "probe.tar.gz", "sha256", sha);
    TestContext ctx = new TestContext(p, Files.createDirectories(tmp.resolve("w")));
    ctx.refreshWith(
        Map.of(
            "url",
            server.uri("/tools/probe.tar.gz").toString() + "?X-Amz-Signature=fresh",
            "filePath",
            "probe.tar.gz",
            "sha256",
            sha));
    OperationResult r = new DownloadFileOperation(TestConfig.in(tmp).settings()).execute(ctx);
    assertEquals(OperationResult.Status.SUCCEEDED, r.status(), r.toString());
    assertEquals(1, ctx.refreshes.get());
    assertArrayEquals(body, Files.readAllBytes(tmp.resolve("downloads/probe.tar.gz")));
    assertEquals("bytes=200000-", server.requests().get(2).header("Range"));
  }

  @Test
  void aPathOutsideTheDownloadFolderIsRejected() throws Exception {
    DownloadFileOperation op =
        new DownloadFileOperation(TestConfig.in(tmp).set("allow.unverified", true).settings());
    for (String path : new String[] {"/etc/cron.d/x", "../downloads-evil/x", "a/../../x"}) {
      OperationException e =
          assertThrows(
              OperationException.class,
              () -> op.validate(JobParameters.of(Map.of("url", url(), "filePath", path))));
      assertEquals(FirmwareReason.PATH_OUTSIDE_FOLDER, e.reason(), path);
      assertTrue(e.rejected());
    }
  }

  @Test
  void plainHttpIsRefusedUnlessAllowed() throws Exception {
    DownloadFileOperation op =
        new DownloadFileOperation(
            TestConfig.in(tmp).set("http.allowed", false).set("allow.unverified", true).settings());
    OperationException e =
        assertThrows(
            OperationException.class,
            () -> op.validate(JobParameters.of(Map.of("url", url(), "filePath", "x"))));
    assertEquals(FirmwareReason.INSECURE_URL, e.reason());
  }
}
