package org.gantry.launcher;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.gantry.launcher.CommandLine.Command;
import org.gantry.launcher.CommandLine.Help;
import org.gantry.launcher.CommandLine.HubCall;
import org.gantry.launcher.CommandLine.Refused;
import org.gantry.launcher.CommandLine.RunDemo;
import org.gantry.launcher.CommandLine.RunGateway;
import org.gantry.launcher.CommandLine.RunHub;

/**
 * The entry point of {@code bin/gantry}: parses the command line; for a role ({@code gateway},
 * {@code hub}) prepares the data folder and its configuration and runs the role's features in Felix
 * until SIGTERM/SIGINT; {@code jobs} talks to a hub's management API; {@code demo} runs a hub and a
 * gateway as child processes.
 *
 * <p>System properties: {@code gantry.home}, the runtime folder (set by {@code bin/gantry}).
 * Environment: {@code GANTRY_CWD}, the caller's working directory, against which relative paths on
 * the command line are resolved (bin/gantry changes into the home folder).
 *
 * <p>Exit status: 0 after a clean stop or for help, 1 when the runtime cannot start (a broken
 * runtime folder, a framework failure, a port in use), when a hub refuses or cannot be reached, or
 * when the demo does not go as expected; 2 for a bad command line or configuration.
 */
public final class Main {

  static final int OK = 0;
  static final int FAILED = 1;
  static final int USAGE = 2;

  private final Path home;
  private final Path cwd;
  private final PrintStream out;
  private final PrintStream err;
  private final LauncherLog log;
  private final Map<String, String> env;
  private final boolean terminal;

  Main(Path home, Path cwd, PrintStream out, PrintStream err) {
    this(home, cwd, out, err, Map.of(), false);
  }

  /**
   * @param env the environment ({@code GANTRY_HUB}, {@code GANTRY_HUB_TOKEN})
   * @param terminal whether stdout is an ANSI terminal (for {@code jobs watch})
   */
  Main(
      Path home,
      Path cwd,
      PrintStream out,
      PrintStream err,
      Map<String, String> env,
      boolean terminal) {
    this.home = home;
    this.cwd = cwd;
    this.out = out;
    this.err = err;
    this.log = new LauncherLog(out, "Launcher");
    this.env = env;
    this.terminal = terminal;
  }

  public static void main(String[] args) {
    String homeProperty = System.getProperty("gantry.home");
    Path home = homeProperty == null ? null : Path.of(homeProperty).toAbsolutePath().normalize();
    String cwdEnv = System.getenv("GANTRY_CWD");
    Path cwd =
        Path.of(cwdEnv != null && !cwdEnv.isEmpty() ? cwdEnv : System.getProperty("user.dir"));
    // System.console() is there only when stdin and stdout are both a terminal; TERM=dumb (an
    // editor's shell, some CI runners) cannot move the cursor.
    String term = System.getenv("TERM");
    boolean terminal = System.console() != null && term != null && !term.equals("dumb");
    int status = new Main(home, cwd, System.out, System.err, System.getenv(), terminal).run(args);
    System.exit(status);
  }

  int run(String[] args) {
    Command command = CommandLine.parse(args, home, cwd, env);
    if (command instanceof Help help) {
      out.print(help.text());
      out.flush();
      return OK;
    }
    if (command instanceof Refused refused) {
      err.println("gantry: " + refused.message());
      err.println(refused.hint());
      err.flush();
      return USAGE;
    }
    if (command instanceof RunGateway gateway) {
      return runGateway(gateway.options());
    }
    if (command instanceof RunHub hub) {
      return runHub(hub.options());
    }
    if (command instanceof HubCall call) {
      return new OpsCommand(out, err, env, terminal).run(call);
    }
    if (home == null) {
      return refuse(FAILED, "gantry.home is not set: start Gantry with bin/gantry");
    }
    return new Demo(home, out, err).run(((RunDemo) command).dataDir());
  }

  /** What a role needs to start, once its configuration is decided. */
  private record Plan(
      List<ConfigStager.Staged> files,
      Map<String, InetSocketAddress> listens,
      List<String> notes) {}

  @FunctionalInterface
  private interface Planner {
    Plan plan(Path dataDir, Path configDir) throws ConfigException;
  }

  private int runGateway(GatewayOptions options) {
    List<String> features = new ArrayList<>(Role.GATEWAY.features());
    if (options.shell()) {
      features.add(Role.SHELL_FEATURE);
    }
    return runRole(
        Role.GATEWAY,
        features,
        options.dataDir(),
        options.configDir(),
        (dataDir, configDir) ->
            new Plan(ConfigStager.stage(configDir, options, dataDir), Map.of(), List.of()));
  }

  private int runHub(HubOptions options) {
    return runRole(
        Role.HUB,
        Role.HUB.features(),
        options.dataDir(),
        options.configDir(),
        (dataDir, configDir) -> {
          ConfigStager.HubPlan plan = ConfigStager.stageHub(configDir, options, dataDir);
          Map<String, InetSocketAddress> listens = new LinkedHashMap<>();
          plan.embeddedBroker()
              .ifPresent(b -> listens.put("the embedded MQTT broker (--mqtt-port)", b));
          listens.put("the management API (--api-port)", plan.api());
          String broker =
              plan.embeddedBroker().isPresent()
                  ? "embedded MQTT broker on "
                      + hostPort(plan.embeddedBroker().get())
                      + ", hub connects to "
                      + plan.mqttUrl()
                  : "external MQTT broker "
                      + plan.mqttUrl()
                      + " (the embedded broker is not started)";
          return new Plan(
              plan.files(),
              listens,
              List.of(broker + "; management API http://" + hostPort(plan.api())));
        });
  }

  private static String hostPort(InetSocketAddress a) {
    String host = a.getHostString();
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
  }

  private int runRole(
      Role role,
      List<String> features,
      Optional<Path> dataOption,
      Optional<Path> configOption,
      Planner planner) {
    if (home == null) {
      return refuse(FAILED, "gantry.home is not set: start Gantry with bin/gantry");
    }
    Path dataDir = dataOption.orElse(home.resolve("data"));
    Path configDir = configOption.orElse(home.resolve("etc"));
    try {
      Files.createDirectories(dataDir);
    } catch (IOException | SecurityException e) {
      return refuse(USAGE, "cannot create the data folder " + dataDir + ": " + reason(e));
    }
    if (!Files.isWritable(dataDir)) {
      return refuse(USAGE, "the data folder " + dataDir + " is not writable");
    }

    Plan plan;
    List<Path> ignored;
    try {
      plan = planner.plan(dataDir, configDir);
      ignored = ConfigStager.ignoredFiles(configDir);
    } catch (ConfigException e) {
      return refuse(USAGE, e.getMessage());
    }

    List<FeatureBundle> bundles;
    Path featuresFile = home.resolve("features.xml");
    try {
      bundles = FeaturesRepository.read(featuresFile).bundles(features);
    } catch (IOException e) {
      return refuse(
          FAILED,
          home + " is not a Gantry runtime folder: cannot read " + featuresFile + ": " + reason(e));
    } catch (FeaturesException e) {
      return refuse(FAILED, e.getMessage());
    }
    List<String> missing = new ArrayList<>();
    for (FeatureBundle b : bundles) {
      if (!Files.isRegularFile(b.coordinates().resolveIn(home.resolve("system")))) {
        missing.add(b.location());
      }
    }
    if (!missing.isEmpty()) {
      return refuse(
          FAILED,
          home.resolve("system")
              + " lacks bundles that features.xml names: "
              + String.join(", ", missing));
    }

    // Held until the JVM exits: two runtimes on one data folder would share a journal.
    try (FileChannel lockChannel =
        FileChannel.open(
            dataDir.resolve("gantry.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      FileLock lock;
      try {
        lock = lockChannel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        return refuse(USAGE, "the data folder " + dataDir + " is in use by another Gantry process");
      }
      for (Map.Entry<String, InetSocketAddress> listen : plan.listens().entrySet()) {
        Optional<String> busy = PortCheck.problem(listen.getValue(), listen.getKey());
        if (busy.isPresent()) {
          return refuse(FAILED, busy.get());
        }
      }
      String version = implementationVersion();
      log.info(
          "Gantry "
              + version
              + ", role "
              + role.command()
              + " (features "
              + String.join(", ", features)
              + "), home "
              + home
              + ", data "
              + dataDir
              + ", config "
              + configDir);
      for (String note : plan.notes()) {
        log.info(note);
      }
      for (Path p : ignored) {
        log.warn("ignoring " + p + ": only *.cfg files in the config folder are configuration");
      }
      ConfigStager.Report report = ConfigStager.write(dataDir.resolve("config"), plan.files());
      log.info(
          "configuration "
              + String.join(", ", report.written())
              + " written to "
              + dataDir.resolve("config")
              + (report.removed().isEmpty()
                  ? ""
                  : "; removed " + String.join(", ", report.removed())));
      return new FrameworkRunner(home, dataDir, version, bundles, log).run();
    } catch (IOException e) {
      return refuse(FAILED, "cannot prepare the data folder " + dataDir + ": " + reason(e));
    }
  }

  private int refuse(int status, String message) {
    err.println("gantry: " + message);
    err.flush();
    return status;
  }

  private static String reason(Exception e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : " (" + m + ")");
  }

  static String implementationVersion() {
    String v = Main.class.getPackage().getImplementationVersion();
    return v == null ? "development" : v;
  }
}
