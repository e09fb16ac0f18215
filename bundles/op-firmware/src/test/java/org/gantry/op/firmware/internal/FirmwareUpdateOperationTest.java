package org.gantry.op.firmware.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import org.gantry.api.operation.DocumentReason;
import org.gantry.api.operation.JobParameters;
import org.gantry.api.operation.OperationException;
import org.gantry.api.operation.OperationResult;
import org.gantry.api.operation.OperationResult.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The whole firmware-update pipeline against a loopback server, with real signatures and slots. */
@Timeout(60)
class FirmwareUpdateOperationTest {

  @TempDir Path tmp;
  private FaultServer server;
  private Pki.Identity ca;
  private Pki.Identity signer;
  private Path firmware;
  private Path activations;
  private int jobs;

  @BeforeEach
  void setUp() throws Exception {
    server = new FaultServer();
    ca = Pki.ca("Gantry Test CA");
    signer = Pki.signer("firmware-signer", Pki.ec(), ca);
    Files.writeString(tmp.resolve("trust.pem"), ca.pem());
    firmware = tmp.resolve("firmware");
    activations = tmp.resolve("activations.log");
  }

  @AfterEach
  void tearDown() throws Exception {
    server.close();
  }

  private TestConfig config() {
    return TestConfig.in(tmp)
        .set("trust.store", tmp.resolve("trust.pem").toString())
        .set(
            "activate.command",
            new String[] {
              "/bin/sh",
              "-c",
              "echo \"$0 $1\" >> " + activations + "; test ! -f \"$0/fail-activation\""
            })
        .set("health.command", new String[] {"/bin/sh", "-c", "test -f \"$0/healthy\""})
        .set("health.window.seconds", 1);
  }

  private FirmwareUpdateOperation op() {
    return new FirmwareUpdateOperation(config().settings());
  }

  /** A tar.gz image of {@code version} holding the given marker files, served at a new path. */
  private byte[] image(String version, String... markers) throws Exception {
    Path a = tmp.resolve("image-" + version + "-" + (jobs++) + ".tar.gz");
    byte[] payload = new byte[300_000];
    new Random(version.hashCode()).nextBytes(payload);
    try (Archives z = Archives.tar(a, true)) {
      z.file("VERSION", version.getBytes(StandardCharsets.UTF_8));
      z.file("bin/app", payload, 0755);
      for (String m : markers) {
        z.file(m, new byte[0]);
      }
    }
    return Files.readAllBytes(a);
  }

  private Map<String, Object> signed(String version, byte[] image) throws Exception {
    String path = "/fw-" + version + "-" + (jobs++) + ".tar.gz";
    server.serve(path, image);
    Map<String, Object> p = new HashMap<>();
    p.put("url", server.uri(path).toString());
    p.put("size", image.length);
    p.put("version", version);
    p.put("signature", signer.sign(image));
    p.put("signatureAlgorithm", "SHA256withECDSA");
    p.put("certificate", signer.pem());
    return p;
  }

  private TestContext ctx(Map<String, Object> p) throws Exception {
    return new TestContext(p, Files.createDirectories(tmp.resolve("work-" + (jobs++))));
  }

  private OperationResult run(FirmwareUpdateOperation op, Map<String, Object> p) throws Exception {
    op.validate(JobParameters.of(p));
    return op.execute(ctx(p));
  }

  private String active() throws Exception {
    return Files.readString(firmware.resolve("active")).trim();
  }

  private static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  @Test
  void installsASignedTarGzIntoSlotAAndActivatesIt() throws Exception {
    FirmwareUpdateOperation op = op();
    OperationResult r = run(op, signed("1.0.0", image("1.0.0", "healthy")));
    assertEquals(Status.SUCCEEDED, r.status(), r.toString());
    assertEquals("slot-a", active());
    assertEquals("1.0.0", Files.readString(firmware.resolve("slot-a/VERSION")));
    assertTrue(Files.isExecutable(firmware.resolve("slot-a/bin/app")));
    assertEquals(List.of(firmware.resolve("slot-a") + " 1.0.0"), Files.readAllLines(activations));
    assertEquals("1.0.0", r.details().get("version"));
  }

  @Test
  void theNextVersionGoesToTheOtherSlotAndAnOlderOneIsRejected() throws Exception {
    FirmwareUpdateOperation op = op();
    assertEquals(Status.SUCCEEDED, run(op, signed("1.0.0", image("1.0.0", "healthy"))).status());
    assertEquals(Status.SUCCEEDED, run(op, signed("1.10.0", image("1.10.0", "healthy"))).status());
    assertEquals("slot-b", active());
    assertEquals("1.0.0", Files.readString(firmware.resolve("slot-a/VERSION")), "A/B: kept");

    Map<String, Object> older = signed("1.9.0", image("1.9.0", "healthy"));
    OperationException e =
        assertThrows(OperationException.class, () -> op.validate(JobParameters.of(older)));
    assertEquals(FirmwareReason.VERSION_NOT_NEWER, e.reason());
    assertTrue(e.rejected());
    OperationException same =
        assertThrows(
            OperationException.class,
            () -> op.validate(JobParameters.of(signed("1.10.0", image("1.10.0")))));
    assertEquals(FirmwareReason.VERSION_NOT_NEWER, same.reason());
    assertEquals(1 + 1, server.requests().size(), "the refused documents downloaded nothing");

    older.put("allowDowngrade", true);
    assertEquals(Status.SUCCEEDED, run(op, older).status());
    assertEquals("slot-a", active());
    assertEquals("1.9.0", Files.readString(firmware.resolve("slot-a/VERSION")));
  }

  @Test
  void anRsaSignatureFromASignerOfTheTrustedCaVerifies() throws Exception {
    Pki.Identity rsa = Pki.signer("rsa-signer", Pki.rsa(), ca);
    byte[] img = image("1.0.0", "healthy");
    Map<String, Object> p = signed("1.0.0", img);
    p.put("signature", rsa.sign(img));
    p.put("signatureAlgorithm", "SHA256withRSA");
    p.put("certificate", rsa.pem());
    assertEquals(Status.SUCCEEDED, run(op(), p).status());
  }

  /** FAULTS 11: nothing is extracted or activated before verification succeeds. */
  @Test
  void aBadSignatureFailsAndNothingIsExtractedOrActivated() throws Exception {
    byte[] img = image("1.0.0", "healthy");
    Map<String, Object> p = signed("1.0.0", img);
    p.put("signature", Pki.sign(Pki.ec().getPrivate(), img));
    TestContext ctx = ctx(p);
    OperationFailure e = assertThrows(OperationFailure.class, () -> op().execute(ctx));
    assertEquals(FirmwareReason.SIGNATURE_INVALID, e.code());
    assertNothingInstalled(ctx);
  }

  @Test
  void aSignerFromAnotherCaIsUntrusted() throws Exception {
    Pki.Identity rogue = Pki.signer("rogue", Pki.ec(), Pki.ca("Rogue CA"));
    byte[] img = image("1.0.0", "healthy");
    Map<String, Object> p = signed("1.0.0", img);
    p.put("signature", rogue.sign(img));
    p.put("certificate", rogue.pem());
    TestContext ctx = ctx(p);
    OperationFailure e = assertThrows(OperationFailure.class, () -> op().execute(ctx));
    assertEquals(FirmwareReason.SIGNER_UNTRUSTED, e.code());
    assertNothingInstalled(ctx);
  }

  @Test
  void aDigestMismatchFailsAndKeepsTheRunningVersion() throws Exception {
    FirmwareUpdateOperation op = op();
    assertEquals(Status.SUCCEEDED, run(op, signed("1.0.0", image("1.0.0", "healthy"))).status());
    byte[] img = image("2.0.0", "healthy");
    Map<String, Object> p = signed("2.0.0", img);
    p.remove("signature");
    p.remove("signatureAlgorithm");
    p.remove("certificate");
    p.put("sha256", sha256(new byte[] {1}));
    TestContext ctx = ctx(p);
    OperationFailure e = assertThrows(OperationFailure.class, () -> op.execute(ctx));
    assertEquals(FirmwareReason.DIGEST_MISMATCH, e.code());
    assertEquals("slot-a", active());
    assertFalse(Files.exists(firmware.resolve("slot-b")));
    assertFalse(
        Files.exists(Step.of(ctx).workDir().resolve(Fetch.ARTIFACT)), "the file was deleted");
  }

  /**
   * FAULTS 17 through the whole operation: a signed, verified image whose archive holds a traversal
   * after good entries. The job fails with ARCHIVE_PATH_TRAVERSAL, nothing is created under
   * firmware.dir during it (no staging folder, no slot file), the running version stays.
   */
  @Test
  void aVerifiedArchiveWithATraversalWritesNothingUnderTheFirmwareFolder() throws Exception {
    RecordingDisk disk = new RecordingDisk();
    FirmwareUpdateOperation op = new FirmwareUpdateOperation(config().settings(), disk);
    assertEquals(Status.SUCCEEDED, run(op, signed("1.0.0", image("1.0.0", "healthy"))).status());
    Path a = tmp.resolve("hostile.tar.gz");
    try (Archives z = Archives.tar(a, true)) {
      z.file("VERSION", "2.0.0".getBytes(StandardCharsets.UTF_8));
      byte[] app = new byte[300_000];
      new Random(7).nextBytes(app);
      z.file("bin/app", app, 0755);
      z.file("../slot-a/bin/app", "evil".getBytes(StandardCharsets.UTF_8));
    }
    Map<String, Object> p = signed("2.0.0", Files.readAllBytes(a));
    int createdBefore = disk.created().size();
    List<String> before;
    try (var files = Files.walk(firmware)) {
      before = files.map(Path::toString).sorted().toList();
    }
    TestContext ctx = ctx(p);
    OperationFailure e = assertThrows(OperationFailure.class, () -> op.execute(ctx));
    assertEquals(FirmwareReason.ARCHIVE_PATH_TRAVERSAL, e.code(), e.getMessage());
    assertEquals(createdBefore, disk.created().size(), "created: " + disk.created());
    try (var files = Files.walk(firmware)) {
      assertEquals(before, files.map(Path::toString).sorted().toList());
    }
    assertEquals("slot-a", active());
    assertEquals(300_000, Files.size(firmware.resolve("slot-a/bin/app")), "the active image");
    assertEquals("1.0.0", Files.readString(firmware.resolve("slot-a/VERSION")));
  }

  private void assertNothingInstalled(TestContext ctx) throws Exception {
    assertFalse(Files.exists(firmware.resolve("active")));
    try (var s = Files.list(firmware)) {
      assertEquals(List.of(), s.toList(), "no slot, no staging folder");
    }
    assertFalse(
        Files.exists(Step.of(ctx).workDir().resolve(Fetch.ARTIFACT)), "the file was deleted");
    assertFalse(Files.exists(activations), "no activation ran");
  }

  @Test
  void aDocumentWithNeitherDigestNorSignatureIsRejected() throws Exception {
    Map<String, Object> p = signed("1.0.0", image("1.0.0"));
    p.remove("signature");
    p.remove("signatureAlgorithm");
    p.remove("certificate");
    OperationException e =
        assertThrows(OperationException.class, () -> op().validate(JobParameters.of(p)));
    assertEquals(FirmwareReason.UNVERIFIED_NOT_ALLOWED, e.reason());
    assertTrue(e.rejected());

    p.put("sha256", sha256(new byte[] {1}));
    FirmwareUpdateOperation strict =
        new FirmwareUpdateOperation(config().set("signature.required", true).settings());
    OperationException s =
        assertThrows(OperationException.class, () -> strict.validate(JobParameters.of(p)));
    assertEquals(FirmwareReason.SIGNATURE_REQUIRED, s.reason());
  }

  @Test
  void aFailedActivationSwitchesBackAndFails() throws Exception {
    FirmwareUpdateOperation op = op();
    assertEquals(Status.SUCCEEDED, run(op, signed("1.0.0", image("1.0.0", "healthy"))).status());
    OperationResult r = run(op, signed("2.0.0", image("2.0.0", "healthy", "fail-activation")));
    assertEquals(Status.FAILED, r.status());
    assertEquals(FirmwareReason.ACTIVATION_FAILED, r.reason().orElseThrow());
    assertTrue(r.message().orElseThrow().contains("slot-a is active again"), r.toString());
    assertEquals("slot-a", active());
    assertEquals(
        List.of(
            firmware.resolve("slot-a") + " 1.0.0",
            firmware.resolve("slot-b") + " 2.0.0",
            firmware.resolve("slot-a") + " 1.0.0"),
        Files.readAllLines(activations),
        "the previous slot is activated again");
  }

  @Test
  void anUnhealthyImageIsRolledBackAfterTheHealthWindow() throws Exception {
    FirmwareUpdateOperation op = op();
    assertEquals(Status.SUCCEEDED, run(op, signed("1.0.0", image("1.0.0", "healthy"))).status());
    OperationResult r = run(op, signed("2.0.0", image("2.0.0")));
    assertEquals(Status.FAILED, r.status());
    assertEquals(FirmwareReason.HEALTH_CHECK_FAILED, r.reason().orElseThrow());
    assertEquals("slot-a", active());
  }

  /** A restart between the "activating" checkpoint and the switch: the update finishes. */
  @Test
  void aRestartMidActivationFinishesTheActivation() throws Exception {
    FirmwareUpdateOperation op = op();
    assertEquals(Status.SUCCEEDED, run(op, signed("1.0.0", image("1.0.0", "healthy"))).status());
    Map<String, Object> p = signed("2.0.0", image("2.0.0", "healthy"));
    TestContext first = ctx(p);
    assertEquals(Status.SUCCEEDED, op.execute(first).status());
    // the state a crash right after the checkpoint, before the pointer moved, leaves behind
    Map<String, String> cps = new ConcurrentHashMap<>(first.checkpoints);
    cps.keySet().removeIf(k -> k.endsWith("." + FirmwareUpdateOperation.CP_ACTIVATED));
    cps.keySet().removeIf(k -> k.endsWith("." + FirmwareUpdateOperation.CP_HOOK_DONE));
    Folders.writeAtomically(firmware.resolve("active"), "slot-a\n");
    int requests = server.requests().size();

    OperationResult r =
        new FirmwareUpdateOperation(config().settings())
            .execute(new TestContext(p, first.workDir(), cps));
    assertEquals(Status.SUCCEEDED, r.status(), r.toString());
    assertEquals("slot-b", active());
    assertEquals(requests, server.requests().size(), "nothing downloaded again");
    assertEquals(firmware.resolve("slot-b") + " 2.0.0", Files.readAllLines(activations).get(2));
  }

  /**
   * An activation command that restarts the gateway itself: after two interrupted runs the next
   * start goes to the health window instead of running it a third time.
   */
  @Test
  void anActivationInterruptedTwiceIsNotRunAThirdTime() throws Exception {
    FirmwareUpdateOperation op = op();
    assertEquals(Status.SUCCEEDED, run(op, signed("1.0.0", image("1.0.0", "healthy"))).status());
    Map<String, Object> p = signed("2.0.0", image("2.0.0", "healthy"));
    TestContext first = ctx(p);
    assertEquals(Status.SUCCEEDED, op.execute(first).status());
    Map<String, String> cps = new ConcurrentHashMap<>(first.checkpoints);
    cps.keySet().removeIf(k -> k.endsWith("." + FirmwareUpdateOperation.CP_ACTIVATED));
    cps.keySet().removeIf(k -> k.endsWith("." + FirmwareUpdateOperation.CP_HOOK_DONE));
    String runs =
        cps.keySet().stream()
            .filter(k -> k.endsWith("." + FirmwareUpdateOperation.CP_HOOK_RUNS))
            .findFirst()
            .orElseThrow();
    assertEquals("1", cps.get(runs), "the run was counted before it started");
    cps.put(runs, "2");
    int before = Files.readAllLines(activations).size();

    OperationResult r = op.execute(new TestContext(p, first.workDir(), cps));
    assertEquals(Status.SUCCEEDED, r.status(), r.toString());
    assertEquals(before, Files.readAllLines(activations).size(), "not run a third time");
    assertEquals("slot-b", active());
  }

  /** A restart mid-activation whose image turns out unhealthy: rolled back, FAILED once. */
  @Test
  void aRestartMidActivationRollsBackAnUnhealthyImage() throws Exception {
    FirmwareUpdateOperation op = op();
    assertEquals(Status.SUCCEEDED, run(op, signed("1.0.0", image("1.0.0", "healthy"))).status());
    Map<String, Object> p = signed("2.0.0", image("2.0.0", "healthy"));
    TestContext first = ctx(p);
    assertEquals(Status.SUCCEEDED, op.execute(first).status());
    Map<String, String> cps = new ConcurrentHashMap<>(first.checkpoints);
    cps.keySet().removeIf(k -> k.endsWith("." + FirmwareUpdateOperation.CP_ACTIVATED));
    Files.delete(firmware.resolve("slot-b/healthy"));

    TestContext after = new TestContext(p, first.workDir(), cps);
    OperationResult r = op.execute(after);
    assertEquals(Status.FAILED, r.status());
    assertEquals(FirmwareReason.HEALTH_CHECK_FAILED, r.reason().orElseThrow());
    assertEquals("slot-a", active());
    // a further restart reports the same outcome without touching the slots again
    OperationResult again = op.execute(new TestContext(p, first.workDir(), after.checkpoints));
    assertEquals(Status.FAILED, again.status());
    assertEquals(FirmwareReason.HEALTH_CHECK_FAILED, again.reason().orElseThrow());
  }

  /**
   * Two firmware-update steps in one execution (an AWS OTA job with two files) share the engine's
   * checkpoints and work folder: the second is not mistaken for the first, finished, one.
   */
  @Test
  void twoStepsOfOneExecutionKeepTheirCheckpointsApart() throws Exception {
    FirmwareUpdateOperation op = op();
    Map<String, Object> first = signed("1.0.0", image("1.0.0", "healthy"));
    Map<String, Object> second = signed("1.1.0", image("1.1.0", "healthy"));
    Path work = Files.createDirectories(tmp.resolve("shared-work"));
    Map<String, String> shared = new ConcurrentHashMap<>();
    assertEquals(Status.SUCCEEDED, op.execute(new TestContext(first, work, shared)).status());
    OperationResult r = op.execute(new TestContext(second, work, shared));
    assertEquals(Status.SUCCEEDED, r.status(), r.toString());
    assertEquals("slot-b", active());
    assertEquals("1.1.0", Files.readString(firmware.resolve("slot-b/VERSION")));
  }

  /** FAULTS 5: a replayed document without a version is refused by its digest. */
  @Test
  void aReplayedDocumentIsRejected() throws Exception {
    FirmwareUpdateOperation op = op();
    byte[] img = image("x", "healthy");
    Map<String, Object> p = signed("1.0.0", img);
    p.remove("version");
    p.put("sha256", sha256(img));
    assertEquals(Status.SUCCEEDED, run(op, p).status());
    OperationException e =
        assertThrows(OperationException.class, () -> op.validate(JobParameters.of(p)));
    assertEquals(FirmwareReason.ALREADY_INSTALLED, e.reason());
    assertTrue(e.rejected());
  }

  /** The AWS OTA shape as the jobdoc bundle normalises it; a raw image goes into the slot. */
  @Test
  void anAwsOtaDocumentInstallsARawImage() throws Exception {
    byte[] img = new byte[180_243];
    new Random(3).nextBytes(img);
    server.serve("/fw/plc-bridge-2.4.1.bin", img);
    Path certFile = tmp.resolve("signer.crt");
    Files.writeString(certFile, signer.pem());
    Map<String, Object> p = new HashMap<>();
    p.put("url", server.uri("/fw/plc-bridge-2.4.1.bin").toString() + "?X-Amz-Signature=0f1e");
    p.put("size", img.length);
    p.put("filePath", "/opt/firmware/plc-bridge.bin");
    p.put("signature", signer.sign(img));
    p.put("signatureAlgorithm", "SHA256withECDSA");
    p.put("certFile", certFile.toString());
    p.put("fileId", 0);
    p.put("fileType", 0);
    p.put("authScheme", "aws.s3.presigned");
    p.put("protocols", List.of("HTTP"));
    p.put("format", "afr_ota");
    FirmwareUpdateOperation op =
        new FirmwareUpdateOperation(config().set("health.command", new String[0]).settings());
    OperationResult r = run(op, p);
    assertEquals(Status.SUCCEEDED, r.status(), r.toString());
    assertArrayEquals(img, Files.readAllBytes(firmware.resolve("slot-a/plc-bridge.bin")));
  }

  @Test
  void unknownParametersAreRefusedByName() throws Exception {
    Map<String, Object> p = signed("1.0.0", image("1.0.0"));
    p.put("sha265", "typo");
    OperationException e =
        assertThrows(OperationException.class, () -> op().validate(JobParameters.of(p)));
    assertEquals(DocumentReason.INVALID_PARAMETERS, e.reason());
    assertTrue(e.getMessage().contains("'sha265'"), e.getMessage());
  }

  @Test
  void mqttOnlyOtaIsRefused() throws Exception {
    Map<String, Object> p = signed("1.0.0", image("1.0.0"));
    p.put("protocols", List.of("MQTT"));
    OperationException e =
        assertThrows(OperationException.class, () -> op().validate(JobParameters.of(p)));
    assertTrue(e.getMessage().contains("protocols"), e.getMessage());
  }

  /**
   * FAULTS 16 while staging: the disk fills up in the middle of the new image. DISK_FULL with a
   * sentence that says what is active; the partial slot is removed, the previous image (the
   * rollback target, in the slot being staged) and the active one are untouched, nothing ran.
   */
  @Test
  void aDiskThatFillsUpWhileStagingActivatesNothingAndKeepsBothSlots() throws Exception {
    FirmwareUpdateOperation op = op();
    assertEquals(Status.SUCCEEDED, run(op, signed("1.0.0", image("1.0.0", "healthy"))).status());
    assertEquals(Status.SUCCEEDED, run(op, signed("1.1.0", image("1.1.0", "healthy"))).status());
    String before = Files.readString(firmware.resolve("slot-a.properties"));

    FirmwareUpdateOperation full =
        new FirmwareUpdateOperation(config().settings(), new FillingDisk(100_000));
    Map<String, Object> p = signed("2.0.0", image("2.0.0", "healthy"));
    full.validate(JobParameters.of(p));
    TestContext ctx = ctx(p);
    OperationFailure e = assertThrows(OperationFailure.class, () -> full.execute(ctx));

    assertEquals(FirmwareReason.DISK_FULL, e.code(), e.getMessage());
    assertEquals(
        "The disk filled up while staging version 2.0.0 into slot-a (writing 'bin/app' into the"
            + " staging folder failed: No space left on device); nothing was activated, the"
            + " partial slot-a was removed, and slot-b stays active.",
        e.getMessage());
    assertEquals("slot-b", active());
    assertEquals("1.1.0", Files.readString(firmware.resolve("slot-b/VERSION")));
    assertEquals("1.0.0", Files.readString(firmware.resolve("slot-a/VERSION")), "kept: not begun");
    assertEquals(before, Files.readString(firmware.resolve("slot-a.properties")));
    assertFalse(Files.exists(firmware.resolve("slot-a.staging")));
    assertEquals(2, Files.readAllLines(activations).size(), "the activation never ran for 2.0.0");
    assertTrue(
        ctx.checkpoints.keySet().stream().noneMatch(k -> k.endsWith(".staged")),
        ctx.checkpoints.toString());
  }

  /** The same for a raw image, which is copied into the staging folder through the same disk. */
  @Test
  void aDiskThatFillsUpWhileCopyingARawImageActivatesNothing() throws Exception {
    FirmwareUpdateOperation op = op();
    assertEquals(Status.SUCCEEDED, run(op, signed("1.0.0", image("1.0.0", "healthy"))).status());
    byte[] img = new byte[500_000];
    new Random(5).nextBytes(img);
    server.serve("/app.bin", img);
    Map<String, Object> p = new HashMap<>();
    p.put("url", server.uri("/app.bin").toString());
    p.put("size", img.length);
    p.put("sha256", sha256(img));
    p.put("version", "2.0.0");
    p.put("format", "raw");
    FirmwareUpdateOperation full =
        new FirmwareUpdateOperation(config().settings(), new FillingDisk(200_000));
    full.validate(JobParameters.of(p));
    OperationFailure e = assertThrows(OperationFailure.class, () -> full.execute(ctx(p)));
    assertEquals(FirmwareReason.DISK_FULL, e.code(), e.getMessage());
    assertTrue(e.getMessage().contains("slot-a stays active"), e.getMessage());
    assertEquals("slot-a", active());
    assertFalse(Files.exists(firmware.resolve("slot-b")));
    assertFalse(Files.exists(firmware.resolve("slot-b.staging")));
    assertFalse(Files.exists(firmware.resolve("slot-b.properties")));
    assertEquals(1, Files.readAllLines(activations).size());
  }

  /**
   * An AWS OTA document with two files (the jobdoc bundle adds fileCount to each step): refused
   * when the engine validates the steps, before any byte is downloaded; and if a step were run
   * without validation, refused before its download too. No slot is written.
   */
  @Test
  void aTwoFileOtaDocumentIsRejectedBeforeAnythingIsDownloaded() throws Exception {
    Path certFile = tmp.resolve("signer.crt");
    Files.writeString(certFile, signer.pem());
    FirmwareUpdateOperation op = op();
    for (String file : List.of("app.bin", "cfg.bin")) {
      byte[] img = new byte[10_000];
      new Random(file.hashCode()).nextBytes(img);
      server.serve("/" + file, img);
      Map<String, Object> p = new HashMap<>();
      p.put("url", server.uri("/" + file).toString());
      p.put("size", img.length);
      p.put("filePath", file);
      p.put("signature", signer.sign(img));
      p.put("signatureAlgorithm", "SHA256withECDSA");
      p.put("certFile", certFile.toString());
      p.put("fileId", file.equals("app.bin") ? 0 : 1);
      p.put("format", "afr_ota");
      p.put("fileCount", 2);
      OperationException refused =
          assertThrows(OperationException.class, () -> op.validate(JobParameters.of(p)));
      assertEquals(FirmwareReason.MULTIPLE_FILES, refused.reason());
      assertTrue(refused.rejected());
      OperationException unvalidated =
          assertThrows(OperationException.class, () -> op.execute(ctx(p)));
      assertEquals(FirmwareReason.MULTIPLE_FILES, unvalidated.reason());
    }
    assertEquals(0, server.requests().size(), "nothing was downloaded");
    assertFalse(Files.exists(firmware.resolve("active")));
    assertFalse(Files.exists(firmware.resolve("slot-a")));
  }
}
