package org.gantry.op.command.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.gantry.api.operation.DocumentReason;
import org.gantry.api.operation.JobParameters;
import org.gantry.api.operation.OperationException;
import org.gantry.api.operation.OperationResult;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs real processes: sh scripts written into a handler folder in a temporary directory. */
class CommandOperationTest {

  @TempDir Path tmp;
  private Path handlers;
  private Path work;

  @BeforeEach
  void setUp() throws IOException {
    handlers = Files.createDirectory(tmp.resolve("handlers"));
    Files.setPosixFilePermissions(handlers, PosixFilePermissions.fromString("rwx------"));
    work = Files.createDirectory(tmp.resolve("work"));
  }

  private Path handler(String name, String body) throws IOException {
    Path p = handlers.resolve(name);
    Files.writeString(p, "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
    return p;
  }

  private CommandOperation operation(Map<String, Object> overrides) {
    return new CommandOperation(config(overrides));
  }

  private CommandOperation operation() {
    return operation(Map.of());
  }

  private Map<String, Object> handlerStep(String handler, Object... more) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("type", "runHandler");
    p.put("handler", handler);
    for (int i = 0; i < more.length; i += 2) {
      p.put((String) more[i], more[i + 1]);
    }
    return p;
  }

  private OperationResult run(CommandOperation op, Map<String, Object> params) throws Exception {
    op.validate(JobParameters.of(params));
    return op.execute(new TestContext(params, work));
  }

  @Test
  void aHandlerRunsWithTheUserArgumentFirstAndItsArgsAndReportsStdout() throws Exception {
    handler("greet.sh", "echo \"user=[$1] rest=$2,$3\"; pwd");
    OperationResult r =
        run(
            operation(),
            handlerStep("greet.sh", "args", List.of("a b", "c"), "includeStdOut", true));
    assertEquals(OperationResult.Status.SUCCEEDED, r.status(), r.toString());
    assertEquals("0", r.details().get("exitCode"));
    assertEquals("user=[] rest=a b,c\u2424" + work, r.details().get("stdout"));
  }

  @Test
  void stdoutIsReportedOnlyWhenAskedFor() throws Exception {
    handler("quiet.sh", "echo secret");
    OperationResult r = run(operation(), handlerStep("quiet.sh"));
    assertEquals(OperationResult.Status.SUCCEEDED, r.status());
    assertFalse(r.details().containsKey("stdout"), r.details().toString());
  }

  @Test
  void aNonZeroExitFailsWithTheTailOfStderr() throws Exception {
    handler("fail.sh", "echo 'disk on fire' >&2; exit 3");
    OperationResult r = run(operation(), handlerStep("fail.sh"));
    assertEquals(OperationResult.Status.FAILED, r.status());
    assertEquals(CommandReason.EXIT_STATUS, r.reason().orElseThrow());
    assertEquals("3", r.details().get("exitCode"));
    assertEquals("disk on fire", r.details().get("stderr"));
    assertTrue(r.message().orElseThrow().contains("status 3"), r.message().orElseThrow());
  }

  @Test
  void ignoreStepFailureReportsTheFailureButSucceeds() throws Exception {
    handler("fail.sh", "exit 4");
    OperationResult r = run(operation(), handlerStep("fail.sh", "ignoreStepFailure", true));
    assertEquals(OperationResult.Status.SUCCEEDED, r.status());
    assertTrue(r.details().get("ignoredFailure").startsWith("EXIT_STATUS"), r.details().toString());
  }

  @Test
  void allowStdErrCountsLines() throws Exception {
    handler("warn.sh", "echo one >&2; echo two >&2; exit 0");
    assertEquals(
        OperationResult.Status.SUCCEEDED,
        run(operation(), handlerStep("warn.sh")).status(),
        "stderr is not judged without allowStdErr");
    assertEquals(
        OperationResult.Status.SUCCEEDED,
        run(operation(), handlerStep("warn.sh", "allowStdErr", 2)).status());
    OperationResult r = run(operation(), handlerStep("warn.sh", "allowStdErr", 1));
    assertEquals(CommandReason.STDERR_OUTPUT, r.reason().orElseThrow());
    assertEquals("one\u2424two", r.details().get("stderr"));
  }

  @Test
  void onlyTheLast1024CharactersOfOutputAreReportedAndValidForTheService() throws Exception {
    handler(
        "loud.sh",
        "i=0; while [ $i -lt 300 ]; do printf 'line%04d\\n' $i; i=$((i+1)); done;"
            + " printf 'tab\\there\\033[0m'");
    OperationResult r = run(operation(), handlerStep("loud.sh", "includeStdOut", true));
    String out = r.details().get("stdout");
    assertEquals(1024, out.length());
    assertTrue(out.endsWith("line0299\u2424tab\uFFFDhere\uFFFD[0m"), out);
    assertTrue(out.chars().noneMatch(c -> c < 0x20), out);
  }

  @Test
  void runCommandIsOffByDefaultAndRunsWithoutAShellWhenTurnedOn() throws Exception {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("type", "runCommand");
    p.put("command", List.of("echo", "$HOME;", "done"));
    p.put("includeStdOut", true);
    OperationException e =
        assertThrows(OperationException.class, () -> operation().validate(JobParameters.of(p)));
    assertEquals(CommandReason.RUN_COMMAND_DISABLED, e.reason());
    assertTrue(e.rejected());
    assertTrue(e.getMessage().contains("run.command.enabled"), e.getMessage());

    OperationResult r = run(operation(Map.of("run.command.enabled", true)), p);
    assertEquals(OperationResult.Status.SUCCEEDED, r.status(), r.toString());
    assertEquals("$HOME; done", r.details().get("stdout"));
  }

  @Test
  void handlersComeOnlyFromTheHandlerFolder() throws Exception {
    handler("ok.sh", "exit 0");
    CommandOperation op = operation();
    assertInvalid(op, handlerStep("../ok.sh"), "'handler'");
    assertInvalid(op, handlerStep("sub/ok.sh"), "'handler'");
    assertInvalid(op, handlerStep(".hidden"), "'handler'");
    assertInvalid(op, handlerStep("ok.sh", "path", "/usr/bin"), "'path'");
    op.validate(JobParameters.of(handlerStep("ok.sh", "path", "default")));
    op.validate(JobParameters.of(handlerStep("ok.sh", "path", handlers.toString())));
    op.validate(JobParameters.of(handlerStep("ok.sh", "path", "")));
  }

  @Test
  void badParametersAreNamed() {
    CommandOperation op = operation();
    assertInvalid(op, Map.of("handler", "x.sh"), "'type'");
    assertInvalid(op, Map.of("type", "runScript"), "'type'");
    assertInvalid(op, handlerStep("x.sh", "retries", 3), "'retries'");
    assertInvalid(op, handlerStep("x.sh", "args", "a"), "'args'");
    assertInvalid(op, handlerStep("x.sh", "allowStdErr", -1), "'allowStdErr'");
    assertInvalid(op, handlerStep("x.sh", "ignoreStepFailure", "maybe"), "'ignoreStepFailure'");
    assertInvalid(op, handlerStep("x.sh", "runAsUser", "root;rm"), "'runAsUser'");
    assertInvalid(op, handlerStep("x.sh", "args", List.of("a\u0000b")), "'args[0]'");
    assertInvalid(op, Map.of("type", "runCommand", "command", List.of()), "'command'");
    assertInvalid(
        op, Map.of("type", "runCommand", "command", List.of("ls"), "handler", "h"), "'handler'");
  }

  private static void assertInvalid(CommandOperation op, Map<String, Object> p, String named) {
    OperationException e =
        assertThrows(
            OperationException.class, () -> op.validate(JobParameters.of(p)), p.toString());
    assertEquals(DocumentReason.INVALID_PARAMETERS, e.reason(), e.getMessage());
    assertTrue(e.rejected());
    assertTrue(e.getMessage().contains(named), e.getMessage());
  }

  @Test
  void aMissingOrUnsafeHandlerIsRefusedBeforeItRuns() throws Exception {
    CommandOperation op = operation();
    OperationException missing =
        assertThrows(
            OperationException.class, () -> op.validate(JobParameters.of(handlerStep("nope.sh"))));
    assertEquals(CommandReason.HANDLER_NOT_FOUND, missing.reason());
    assertFalse(missing.rejected(), "installing the handler and retrying must be possible");

    Path marker = tmp.resolve("ran");
    Path h = handler("open.sh", "touch " + marker);
    Files.setPosixFilePermissions(h, PosixFilePermissions.fromString("rwxr-xr-x"));
    assertUnsafe(op, "open.sh", "700");

    Files.setPosixFilePermissions(h, PosixFilePermissions.fromString("rwx------"));
    Files.createSymbolicLink(handlers.resolve("link.sh"), h);
    assertUnsafe(op, "link.sh", "symbolic link");

    Files.setPosixFilePermissions(handlers, PosixFilePermissions.fromString("rwxrwxrwx"));
    assertUnsafe(op, "open.sh", "handler folder");
    assertFalse(Files.exists(marker), "nothing ran");
  }

  private void assertUnsafe(CommandOperation op, String handler, String says) {
    OperationException e =
        assertThrows(
            OperationException.class,
            () -> op.execute(new TestContext(handlerStep(handler), work)));
    assertEquals(CommandReason.HANDLER_UNSAFE, e.reason(), e.getMessage());
    assertTrue(e.getMessage().contains(says), e.getMessage());
  }

  @Test
  void runAsUserIsRefusedUnlessTurnedOnAndThenGoesThroughSudo() throws Exception {
    handler("who.sh", "echo \"as [$1] $2\"");
    Map<String, Object> p = handlerStep("who.sh", "runAsUser", "operator", "args", List.of("x"));
    OperationException e =
        assertThrows(OperationException.class, () -> operation().validate(JobParameters.of(p)));
    assertEquals(CommandReason.RUN_AS_USER_DISABLED, e.reason());
    assertTrue(e.rejected());
    assertTrue(e.getMessage().contains("run.as.user.enabled"), e.getMessage());

    // A stand-in for sudo that records how it was called, then runs the command.
    Path log = tmp.resolve("sudo.log");
    Path sudo = tmp.resolve("fake-sudo");
    Files.writeString(
        sudo,
        "#!/bin/sh\nprintf '%s\\n' \"$*\" > "
            + log
            + "\n[ \"$1\" = -n ] && [ \"$2\" = -u ] && [ \"$4\" = -- ]"
            + " || exit 99\nshift 4\nexec \"$@\"\n");
    Files.setPosixFilePermissions(sudo, PosixFilePermissions.fromString("rwx------"));
    CommandOperation op =
        operation(Map.of("run.as.user.enabled", true, "sudo.path", sudo.toString()));
    Map<String, Object> withStdout = new LinkedHashMap<>(p);
    withStdout.put("includeStdOut", true);
    OperationResult r = run(op, withStdout);
    assertEquals(OperationResult.Status.SUCCEEDED, r.status(), r.toString());
    assertEquals("as [operator] x", r.details().get("stdout"));
    assertEquals(
        "-n -u operator -- " + handlers.resolve("who.sh") + " operator x",
        Files.readString(log).strip());
    // the runtime's own user needs no sudo
    Map<String, Object> self = handlerStep("who.sh", "runAsUser", System.getProperty("user.name"));
    assertEquals(OperationResult.Status.SUCCEEDED, run(operation(), self).status());
  }

  @Test
  void theWatchdogKillsTheWholeProcessTreeAtTheTimeout() throws Exception {
    Path pids = tmp.resolve("pids");
    handler("hang.sh", "sleep 60 & echo $! > " + pids + "; sleep 60");
    OperationResult r = run(operation(Map.of("timeout.seconds", 1L)), handlerStep("hang.sh"));
    assertEquals(CommandReason.COMMAND_TIMEOUT, r.reason().orElseThrow(), r.toString());
    assertTrue(r.message().orElseThrow().contains("timeout.seconds"), r.message().orElseThrow());
    assertGone(Long.parseLong(Files.readString(pids).strip()));
  }

  @Test
  void aHandlerThatLeavesADaemonRunningEndsWithItsOwnProcess() throws Exception {
    Path pids = tmp.resolve("pids");
    // the daemon keeps the output pipes open; the step must end all the same
    handler("start-daemon.sh", "sleep 60 & echo $! > " + pids + "; echo started");
    OperationResult r = run(operation(), handlerStep("start-daemon.sh", "includeStdOut", true));
    long daemon = Long.parseLong(Files.readString(pids).strip());
    try {
      assertEquals(OperationResult.Status.SUCCEEDED, r.status(), r.toString());
      assertEquals("started", r.details().get("stdout"));
      assertTrue(ProcessHandle.of(daemon).map(ProcessHandle::isAlive).orElse(false));
    } finally {
      ProcessHandle.of(daemon).ifPresent(ProcessHandle::destroyForcibly);
    }
  }

  @Test
  void cancellingTheExecutionKillsTheProcessTree() throws Exception {
    Path pids = tmp.resolve("pids");
    handler("hang.sh", "sleep 60 & echo $! > " + pids + "; sleep 60");
    TestContext ctx = new TestContext(handlerStep("hang.sh"), work);
    CommandOperation op = operation();
    CompletableFuture<OperationResult> running =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return op.execute(ctx);
              } catch (OperationException e) {
                throw new IllegalStateException(e);
              }
            });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!(Files.exists(pids) && !Files.readString(pids).isBlank())) {
      assertTrue(System.nanoTime() < deadline, "the handler did not start");
      Thread.sleep(20);
    }
    ctx.cancel();
    OperationResult r = running.get(15, TimeUnit.SECONDS);
    assertEquals(OperationResult.Status.FAILED, r.status());
    assertGone(Long.parseLong(Files.readString(pids).strip()));
  }

  private static void assertGone(long pid) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      assertTrue(System.nanoTime() < deadline, "process " + pid + " of the tree is still alive");
      Thread.sleep(20);
    }
  }

  @Test
  void invalidConfigurationNamesTheProperty() throws IOException {
    assertConfig(Map.of("handler.dir", "relative/handlers"), "handler.dir");
    assertConfig(Map.of("handler.dir", tmp.resolve("missing").toString()), "handler.dir");
    Path open = Files.createDirectory(tmp.resolve("open"));
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
    assertConfig(Map.of("handler.dir", open.toString()), "handler.dir");
    assertConfig(Map.of("timeout.seconds", 0L), "timeout.seconds");
    assertConfig(
        Map.of("run.as.user.enabled", true, "sudo.path", tmp.resolve("no-sudo").toString()),
        "sudo.path");
  }

  private void assertConfig(Map<String, Object> overrides, String property) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> operation(overrides));
    assertTrue(e.getMessage().startsWith(property), e.getMessage());
  }

  private CommandOperation.Config config(Map<String, Object> o) {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("handler.dir", handlers.toString());
    c.put("run.command.enabled", false);
    c.put("run.as.user.enabled", false);
    c.put("sudo.path", "/usr/bin/sudo");
    c.put("handler.user.argument", true);
    c.put("timeout.seconds", 30L);
    c.putAll(o);
    // A proxy, as the framework builds one from the configuration's properties.
    return (CommandOperation.Config)
        Proxy.newProxyInstance(
            CommandOperation.Config.class.getClassLoader(),
            new Class<?>[] {CommandOperation.Config.class},
            (proxy, method, args) -> {
              String key = method.getName().replace('_', '.');
              if (!c.containsKey(key)) {
                throw new UnsupportedOperationException(method.getName());
              }
              return c.get(key);
            });
  }
}
