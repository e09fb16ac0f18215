package org.gantry.op.command.internal;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.gantry.api.operation.DeviceReason;
import org.gantry.api.operation.JobOperation;
import org.gantry.api.operation.JobParameters;
import org.gantry.api.operation.OperationContext;
import org.gantry.api.operation.OperationException;
import org.gantry.api.operation.OperationResult;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code command} operation: runs an AWS IoT Device Client style step, a handler from the
 * configured handler folder ({@code runHandler}) or, when configuration turns it on, a program with
 * its arguments ({@code runCommand}), with the Device Client's safety rules: handlers come only
 * from the handler folder, which like each handler must belong to the runtime's user with mode 700;
 * {@code runAsUser} goes through {@code sudo -n -u} only when configuration allows it; no shell is
 * involved. A watchdog kills the whole process tree at {@code timeout.seconds} or when the
 * execution is cancelled (the engine cancels at the step timeout). The last 1,024 characters of
 * stderr (and of stdout with {@code includeStdOut}) go into {@code statusDetails}.
 */
@Component(
    service = JobOperation.class,
    property = JobOperation.TYPE + "=" + CommandOperation.OPERATION_TYPE,
    configurationPid = CommandOperation.PID)
@Designate(ocd = CommandOperation.Config.class)
public final class CommandOperation implements JobOperation {

  static final String OPERATION_TYPE = "command";
  static final String PID = "org.gantry.op.command";

  /** Characters of output reported, the service's limit for one statusDetails value. */
  static final int OUTPUT_CHARS = 1024;

  static final String KEY_EXIT = "exitCode";
  static final String KEY_STDOUT = "stdout";
  static final String KEY_STDERR = "stderr";
  static final String KEY_IGNORED = "ignoredFailure";

  /** Time a stopped process tree gets between SIGTERM and SIGKILL. */
  private static final Duration KILL_GRACE = Duration.ofSeconds(2);

  /** How often the watchdog looks at the clock and at cancellation. */
  private static final Duration WATCH = Duration.ofMillis(100);

  /** Time the output readers get to finish once the process ended. */
  private static final Duration DRAIN_GRACE = Duration.ofSeconds(1);

  private static final Set<PosixFilePermission> MODE_700 =
      PosixFilePermissions.fromString("rwx------");

  private static final Logger LOG = LoggerFactory.getLogger(CommandOperation.class);

  /** Configuration, PID {@code org.gantry.op.command}. */
  @ObjectClassDefinition(
      name = "Gantry command operation",
      description = "Runs AWS IoT Device Client style handlers and, when enabled, commands.")
  public @interface Config {
    /**
     * The handler folder: absolute, owned by the runtime's user, mode 700.
     *
     * @return the folder
     */
    @AttributeDefinition(
        name = "Handler folder",
        description = "The only folder handlers run from; owned by the runtime's user, mode 700.")
    String handler_dir() default "/var/lib/gantry/handlers";

    /**
     * Whether {@code runCommand} steps may run.
     *
     * @return false unless turned on
     */
    @AttributeDefinition(
        name = "Allow runCommand",
        description = "Lets job documents run any program on the PATH; off by default.")
    boolean run_command_enabled() default false;

    /**
     * Whether {@code runAsUser} may switch users through {@code sudo -n -u}.
     *
     * @return false unless turned on
     */
    @AttributeDefinition(
        name = "Allow runAsUser",
        description = "Runs steps as another user with sudo -n -u; off by default.")
    boolean run_as_user_enabled() default false;

    /**
     * The sudo program.
     *
     * @return an absolute path
     */
    @AttributeDefinition(name = "sudo", description = "Absolute path of the sudo program.")
    String sudo_path() default "/usr/bin/sudo";

    /**
     * Whether a handler gets the step's {@code runAsUser} (or an empty string) as its first
     * argument, as the Device Client passes it, so that its sample handlers run unchanged.
     *
     * @return true by default
     */
    @AttributeDefinition(
        name = "User as first handler argument",
        description =
            "Pass runAsUser (or \"\") as a handler's first argument, as the Device Client does.")
    boolean handler_user_argument() default true;

    /**
     * Longest a step's process may run.
     *
     * @return seconds, 1 to 604800
     */
    @AttributeDefinition(
        name = "Timeout (s)",
        description = "Longest a step's process tree may run before it is killed.",
        min = "1",
        max = "604800")
    long timeout_seconds() default 3600;
  }

  private final Path handlerDir;
  private final boolean runCommandEnabled;
  private final boolean runAsUserEnabled;
  private final Path sudo;
  private final boolean userArgument;
  private final Duration timeout;
  private final ProcessTree tree;
  private final String runtimeUser = System.getProperty("user.name");

  /**
   * Creates the operation.
   *
   * @param config its configuration
   * @throws IllegalArgumentException naming the property when the configuration is unusable
   */
  @Activate
  public CommandOperation(Config config) {
    this(
        config,
        new ProcessTree(
            existing("/usr/bin/setsid", "/bin/setsid"), existing("/bin/kill", "/usr/bin/kill")));
  }

  CommandOperation(Config config, ProcessTree tree) {
    this.handlerDir = absolute(config.handler_dir(), "handler.dir");
    try {
      checkSafe(handlerDir, true);
    } catch (OperationException e) {
      throw new IllegalArgumentException("handler.dir: " + e.getMessage(), e);
    }
    this.runCommandEnabled = config.run_command_enabled();
    this.runAsUserEnabled = config.run_as_user_enabled();
    this.sudo = absolute(config.sudo_path(), "sudo.path");
    if (runAsUserEnabled && !Files.isExecutable(sudo)) {
      throw new IllegalArgumentException(
          "sudo.path: " + sudo + " is not an executable file, but run.as.user.enabled is true");
    }
    this.userArgument = config.handler_user_argument();
    long seconds = config.timeout_seconds();
    if (seconds < 1 || seconds > 604_800) {
      throw new IllegalArgumentException(
          "timeout.seconds must be between 1 and 604800, but is " + seconds);
    }
    this.timeout = Duration.ofSeconds(seconds);
    this.tree = tree;
    LOG.info(
        "Command operation ready: handler.dir={}, run.command.enabled={}, run.as.user.enabled={}",
        handlerDir,
        runCommandEnabled,
        runAsUserEnabled);
  }

  private static Path existing(String... candidates) {
    for (String c : candidates) {
      Path p = Path.of(c);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  private static Path absolute(String value, String property) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(property + " must be set");
    }
    try {
      Path p = Path.of(value);
      if (!p.isAbsolute()) {
        throw new IllegalArgumentException(property + " must be an absolute path, but is " + value);
      }
      return p.normalize();
    } catch (InvalidPathException e) {
      throw new IllegalArgumentException(property + " is not a valid path: " + value, e);
    }
  }

  @Override
  public void validate(JobParameters parameters) throws OperationException {
    CommandStep step = CommandStep.of(parameters, handlerDir.toString());
    checkPolicy(step);
    if (step.runHandler()) {
      handlerPath(step);
    }
  }

  @Override
  public OperationResult execute(OperationContext ctx) throws OperationException {
    CommandStep step = CommandStep.of(ctx.parameters(), handlerDir.toString());
    checkPolicy(step);
    List<String> argv = commandLine(step);
    ProcessBuilder pb =
        new ProcessBuilder(tree.wrap(argv))
            .directory(ctx.workDir().toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.environment().put("GANTRY_JOB_ID", ctx.jobId());
    pb.environment().put("GANTRY_THING_NAME", ctx.thingName());
    LOG.info(
        "Running step '{}': {}",
        step.name() == null ? "" : step.name(),
        String.join(" ", argv.stream().map(CommandStep::clip).toList()));
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new OperationException(
          CommandReason.START_FAILED, "Could not start " + argv.get(0) + ": " + e.getMessage(), e);
    }
    OutputTail out = new OutputTail(p.getInputStream(), OUTPUT_CHARS);
    OutputTail err = new OutputTail(p.getErrorStream(), OUTPUT_CHARS);
    Thread outReader = reader(out, "stdout", p);
    Thread errReader = reader(err, "stderr", p);
    boolean timedOut = false;
    try {
      // The watchdog is this thread: it looks every WATCH interval, so a cancel (the engine's step
      // timeout, the service, the gateway stopping) is acted on within it, and the kill with its
      // grace period runs here rather than on the engine thread that cancels.
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!p.waitFor(WATCH.toMillis(), TimeUnit.MILLISECONDS)) {
        if (ctx.cancelled()) {
          LOG.info("The execution was cancelled; killing the step's process tree");
          tree.kill(p, KILL_GRACE);
          break;
        }
        if (System.nanoTime() - deadline >= 0) {
          timedOut = true;
          LOG.warn(
              "Step ran longer than timeout.seconds={}; killing its process tree",
              timeout.toSeconds());
          tree.kill(p, KILL_GRACE);
          break;
        }
      }
      p.waitFor(KILL_GRACE.toMillis(), TimeUnit.MILLISECONDS);
      // Once the process has ended the JDK hands its readers what is left in the pipes and closes
      // them, so background children a handler starts on purpose (a daemon) cannot hold the step
      // open; they keep running, as under the Device Client, but are no longer read.
      if (!joinBoth(outReader, errReader, DRAIN_GRACE)) {
        LOG.warn("The step's output could not be read to its end; reporting what was read");
      }
    } catch (InterruptedException e) {
      tree.kill(p, Duration.ZERO);
      Thread.currentThread().interrupt();
      return OperationResult.failed(
          DeviceReason.INTERRUPTED, "The gateway stopped while the step ran.", Map.of());
    }
    return outcome(step, ctx, p, out, err, timedOut);
  }

  private OperationResult outcome(
      CommandStep step,
      OperationContext ctx,
      Process p,
      OutputTail out,
      OutputTail err,
      boolean timedOut) {
    Map<String, String> details = new LinkedHashMap<>();
    String stderr = forStatusDetails(err.tail());
    if (!p.isAlive()) {
      details.put(KEY_EXIT, String.valueOf(p.exitValue()));
    }
    if (step.includeStdOut()) {
      putIfNotEmpty(details, KEY_STDOUT, forStatusDetails(out.tail()));
    }
    putIfNotEmpty(details, KEY_STDERR, stderr);
    CommandReason reason = null;
    String message = null;
    if (ctx.cancelled()) {
      return OperationResult.failed(
          DeviceReason.OPERATION_FAILED,
          "The step was cancelled; its process tree was killed.",
          details);
    } else if (timedOut) {
      reason = CommandReason.COMMAND_TIMEOUT;
      message =
          "The step ran longer than "
              + timeout.toSeconds()
              + " seconds (timeout.seconds); its process tree was killed.";
    } else if (p.exitValue() != 0) {
      reason = CommandReason.EXIT_STATUS;
      message =
          p.exitValue() > 128
              ? "The step's process ended with status "
                  + p.exitValue()
                  + " (signal "
                  + (p.exitValue() - 128)
                  + ")."
              : "The step's process ended with status " + p.exitValue() + ".";
    } else if (step.allowStdErr() >= 0 && err.lines() > step.allowStdErr()) {
      reason = CommandReason.STDERR_OUTPUT;
      message =
          "The step wrote "
              + err.lines()
              + " line(s) to stderr; allowStdErr allows "
              + step.allowStdErr()
              + ".";
    }
    if (reason == null) {
      return OperationResult.succeeded(details);
    }
    if (step.ignoreStepFailure()) {
      LOG.info("Step failed, ignored as the document asks (ignoreStepFailure): {}", message);
      details.put(KEY_IGNORED, reason.name() + ": " + message);
      return OperationResult.succeeded(details);
    }
    LOG.warn("Step failed: {} {}", reason.name(), message);
    return OperationResult.failed(reason, message, details);
  }

  private static void putIfNotEmpty(Map<String, String> d, String key, String value) {
    if (!value.isEmpty()) {
      d.put(key, value);
    }
  }

  /**
   * Output made valid for a statusDetails value: line breaks become U+2424 (a visible, permitted
   * character), other control, format and unassigned characters U+FFFD; at most the last 1,024
   * characters, without a torn surrogate pair.
   */
  static String forStatusDetails(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    String trimmed = s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
    for (int i = 0; i < trimmed.length(); ) {
      int cp = trimmed.codePointAt(i);
      i += Character.charCount(cp);
      if (cp == '\r' && i < trimmed.length() && trimmed.charAt(i) == '\n') {
        continue;
      }
      if (cp == '\n' || cp == '\r') {
        sb.append('\u2424');
      } else if (Character.getType(cp) == Character.CONTROL
          || Character.getType(cp) == Character.FORMAT
          || Character.getType(cp) == Character.PRIVATE_USE
          || Character.getType(cp) == Character.SURROGATE
          || Character.getType(cp) == Character.UNASSIGNED) {
        sb.append('\uFFFD');
      } else {
        sb.appendCodePoint(cp);
      }
    }
    int from = Math.max(0, sb.length() - OUTPUT_CHARS);
    if (from > 0 && Character.isLowSurrogate(sb.charAt(from))) {
      from++;
    }
    return sb.substring(from);
  }

  /** Waits for both threads, together at most {@code limit}; true when both ended. */
  private static boolean joinBoth(Thread a, Thread b, Duration limit) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    a.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
    b.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
    return !a.isAlive() && !b.isAlive();
  }

  private Thread reader(OutputTail tail, String name, Process p) {
    Thread t = new Thread(tail, "gantry-command-" + name + "-" + p.pid());
    t.setDaemon(true);
    t.start();
    return t;
  }

  private void checkPolicy(CommandStep step) throws OperationException {
    if (!step.runHandler() && !runCommandEnabled) {
      throw new OperationException(
          CommandReason.RUN_COMMAND_DISABLED,
          "runCommand is turned off on this gateway (run.command.enabled=false in "
              + PID
              + "); use a handler (runHandler) instead.",
          null,
          true);
    }
    if (switchesUser(step) && !runAsUserEnabled) {
      throw new OperationException(
          CommandReason.RUN_AS_USER_DISABLED,
          "parameter 'runAsUser' asks for user '"
              + step.runAsUser()
              + "', but this gateway runs steps only as '"
              + runtimeUser
              + "' (run.as.user.enabled=false in "
              + PID
              + ").",
          null,
          true);
    }
  }

  private boolean switchesUser(CommandStep step) {
    return step.runAsUser() != null && !step.runAsUser().equals(runtimeUser);
  }

  /** The program and its arguments, with sudo in front when the step runs as another user. */
  List<String> commandLine(CommandStep step) throws OperationException {
    List<String> argv = new ArrayList<>();
    if (switchesUser(step)) {
      // -n: never prompt (a prompt would hang the step); --: the rest is the command, not options.
      argv.addAll(List.of(sudo.toString(), "-n", "-u", step.runAsUser(), "--"));
    }
    if (step.runHandler()) {
      argv.add(handlerPath(step).toString());
      if (userArgument) {
        argv.add(step.runAsUser() == null ? "" : step.runAsUser());
      }
      argv.addAll(step.args());
    } else {
      argv.addAll(step.command());
    }
    return argv;
  }

  /** The handler's path after the safety checks on the folder and on the handler itself. */
  private Path handlerPath(CommandStep step) throws OperationException {
    checkSafe(handlerDir, true);
    Path handler = handlerDir.resolve(step.handler()).normalize();
    if (!handler.getParent().equals(handlerDir)) {
      throw OperationException.invalidParameters(
          "parameter 'handler' must name a file directly in the handler folder");
    }
    checkSafe(handler, false);
    return handler;
  }

  /**
   * Refuses a handler folder or handler that someone other than the runtime's user could have
   * changed: it must be owned by that user, have mode 700 exactly and not be a symbolic link.
   */
  private void checkSafe(Path p, boolean folder) throws OperationException {
    String what = folder ? "The handler folder " + p : "The handler " + p;
    PosixFileAttributes a;
    try {
      a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      throw new OperationException(CommandReason.HANDLER_NOT_FOUND, what + " does not exist.", e);
    } catch (IOException | UnsupportedOperationException e) {
      throw new OperationException(
          CommandReason.HANDLER_UNSAFE, what + " cannot be checked: " + e, e);
    }
    String problem = null;
    if (a.isSymbolicLink()) {
      problem = "is a symbolic link";
    } else if (folder ? !a.isDirectory() : !a.isRegularFile()) {
      problem = folder ? "is not a folder" : "is not a regular file";
    } else if (!a.owner().getName().equals(runtimeUser)) {
      problem = "belongs to '" + a.owner().getName() + "', not to '" + runtimeUser + "'";
    } else if (!a.permissions().equals(MODE_700)) {
      problem =
          "has mode " + PosixFilePermissions.toString(a.permissions()) + ", not rwx------ (700)";
    }
    if (problem != null) {
      throw new OperationException(
          CommandReason.HANDLER_UNSAFE,
          what
              + " "
              + problem
              + "; handlers run only from a folder and files that only the runtime's user can change.");
    }
  }
}
