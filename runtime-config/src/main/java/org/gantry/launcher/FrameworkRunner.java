package org.gantry.launcher;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.felix.framework.Felix;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.startlevel.BundleStartLevel;

/**
 * Runs one Felix framework with a list of bundles until it stops: install from {@code system/},
 * start, report, wait, and stop cleanly on SIGTERM/SIGINT.
 */
final class FrameworkRunner {

  static final int BEGINNING_START_LEVEL = 100;
  static final int DEFAULT_BUNDLE_START_LEVEL = 80;
  static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);
  private static final Duration START_TIMEOUT = Duration.ofMinutes(2);

  private final Path home;
  private final Path dataDir;
  private final String version;
  private final List<FeatureBundle> bundles;
  private final LauncherLog log;

  FrameworkRunner(
      Path home, Path dataDir, String version, List<FeatureBundle> bundles, LauncherLog log) {
    this.home = home;
    this.dataDir = dataDir;
    this.version = version;
    this.bundles = List.copyOf(bundles);
    this.log = log;
  }

  /** The framework properties: everything Felix and the platform bundles are told. */
  Map<String, Object> frameworkProperties() {
    Map<String, Object> p = new HashMap<>();
    p.put(Constants.FRAMEWORK_STORAGE, dataDir.resolve("felix-cache").toString());
    // The cache is rebuilt at every start: bundles come from system/ and deploy/, configuration
    // from DATA/config, so nothing in the cache is worth keeping and a stale one cannot bite.
    p.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
    p.put(Constants.FRAMEWORK_BEGINNING_STARTLEVEL, Integer.toString(BEGINNING_START_LEVEL));
    p.put("felix.startlevel.bundle", Integer.toString(DEFAULT_BUNDLE_START_LEVEL));
    p.put(Constants.FRAMEWORK_BSNVERSION, Constants.FRAMEWORK_BSNVERSION_MULTIPLE);
    p.put("felix.fileinstall.dir", home.resolve("deploy") + "," + dataDir.resolve("config"));
    p.put("felix.fileinstall.poll", "500");
    p.put("felix.fileinstall.noInitialDelay", "true");
    p.put("felix.fileinstall.enableConfigSave", "false");
    p.put("felix.fileinstall.log.level", "2");
    // Only what FileInstall can install: keeps README files and the launcher's temporary files out.
    p.put("felix.fileinstall.filter", ".*\\.(jar|cfg|config)");
    // pax-logging's own fallback and Log4j status output: its start-up chatter is noise on a
    // gateway's console, its errors are not.
    p.put("org.ops4j.pax.logging.DefaultServiceLog.level", "ERROR");
    // The engine gets an operation for each use (validate, then execute) and releases it after;
    // without this, Felix SCR deactivates a delayed operation component whenever its last user
    // releases it, so every job would activate each operation twice (checks, log lines, state).
    p.put("ds.delayed.keepInstances", "true");
    // With --shell: leaving the shell (or end of input) must not stop the gateway.
    p.put("gosh.args", "--noshutdown");
    p.put("gantry.version", version);
    p.put("gantry.home", home.toString());
    p.put("gantry.data.dir", dataDir.toString());
    return p;
  }

  /**
   * Runs the framework until it stops.
   *
   * @return 0 when the framework stopped, 1 when it could not be started
   */
  int run() {
    long begin = System.nanoTime();
    Map<String, Object> config = frameworkProperties();
    config.put("felix.log.logger", new FelixLogger(new LauncherLog(System.out, "Felix"), 2));
    Felix felix = new Felix(config);
    CountDownLatch started = new CountDownLatch(1);
    try {
      felix.init();
    } catch (BundleException e) {
      log.error("cannot initialise the framework in " + dataDir + ": " + e.getMessage());
      return 1;
    }
    BundleContext context = felix.getBundleContext();
    context.addFrameworkListener(
        event -> {
          switch (event.getType()) {
            case FrameworkEvent.STARTED -> started.countDown();
            case FrameworkEvent.ERROR -> log.error(describe(event));
            case FrameworkEvent.WARNING -> log.warn(describe(event));
            default -> {}
          }
        });

    List<Bundle> expectedActive = new ArrayList<>();
    int failedInstalls = 0;
    Path system = home.resolve("system");
    for (FeatureBundle b : bundles) {
      Path jar = b.coordinates().resolveIn(system);
      try {
        Bundle bundle = context.installBundle(jar.toUri().toString());
        if (b.startLevel().isPresent()) {
          bundle.adapt(BundleStartLevel.class).setStartLevel(b.startLevel().getAsInt());
        }
        if (b.start() && bundle.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
          // Marks it for start; it starts when the framework reaches its start level.
          bundle.start();
          expectedActive.add(bundle);
        }
      } catch (BundleException | RuntimeException e) {
        failedInstalls++;
        log.error("cannot install " + b.location() + " from " + jar + ": " + e.getMessage());
      }
    }

    Thread hook = new Thread(() -> stop(felix), "gantry-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      felix.start();
    } catch (BundleException e) {
      log.error("cannot start the framework: " + e.getMessage());
      return 1;
    }
    try {
      if (!started.await(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("the framework did not report STARTED within " + START_TIMEOUT.toSeconds() + " s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
    report(expectedActive, failedInstalls, begin);

    try {
      FrameworkEvent end = felix.waitForStop(0);
      if (end.getType() == FrameworkEvent.ERROR) {
        log.error("the framework stopped with an error: " + end.getThrowable());
        return 1;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  private void report(List<Bundle> expectedActive, int failedInstalls, long begin) {
    long startMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin);
    List<String> notStarted = new ArrayList<>();
    int active = 0;
    for (Bundle bundle : expectedActive) {
      // STARTING is a lazily activated bundle waiting for its first class load: it is fine.
      if (bundle.getState() == Bundle.ACTIVE || bundle.getState() == Bundle.STARTING) {
        active++;
      } else {
        notStarted.add(bundle.getSymbolicName() + " (" + stateName(bundle.getState()) + ")");
      }
    }
    // The JVM's own start time: ProcessHandle's start instant comes from /proc in whole seconds.
    long jvmMillis = ManagementFactory.getRuntimeMXBean().getUptime();
    String summary =
        "framework started in "
            + startMillis
            + " ms (JVM up "
            + jvmMillis
            + " ms): "
            + active
            + " bundles started";
    if (notStarted.isEmpty() && failedInstalls == 0) {
      log.info(summary);
    } else {
      log.error(
          summary
              + ", "
              + (notStarted.size() + failedInstalls)
              + " not started"
              + (notStarted.isEmpty() ? "" : ": " + String.join(", ", notStarted))
              + " (their reasons are logged above)");
    }
  }

  private void stop(Felix felix) {
    int state = felix.getState();
    if (state != Bundle.ACTIVE && state != Bundle.STARTING) {
      return;
    }
    long begin = System.nanoTime();
    log.info("stopping the framework");
    try {
      felix.stop();
      FrameworkEvent event = felix.waitForStop(STOP_TIMEOUT.toMillis());
      if (event.getType() == FrameworkEvent.WAIT_TIMEDOUT) {
        log.error(
            "the framework did not stop within " + STOP_TIMEOUT.toSeconds() + " s; exiting anyway");
      } else {
        log.info(
            "framework stopped in "
                + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin)
                + " ms");
      }
    } catch (BundleException e) {
      log.error("cannot stop the framework: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String describe(FrameworkEvent event) {
    Bundle bundle = event.getBundle();
    String who =
        bundle == null || bundle.getBundleId() == 0
            ? "framework"
            : "bundle " + bundle.getSymbolicName() + " " + bundle.getVersion();
    Throwable t = event.getThrowable();
    if (t == null) {
      return who + ": " + event;
    }
    StringBuilder sb = new StringBuilder(who).append(": ").append(t.getMessage());
    // Activator failures wrap the real cause; the cause is what an operator needs.
    Throwable cause = t.getCause();
    for (int depth = 0; cause != null && depth < 5; depth++, cause = cause.getCause()) {
      sb.append(" / caused by ").append(cause);
    }
    return sb.toString();
  }

  static String stateName(int state) {
    return switch (state) {
      case Bundle.INSTALLED -> "INSTALLED";
      case Bundle.RESOLVED -> "RESOLVED";
      case Bundle.STARTING -> "STARTING";
      case Bundle.STOPPING -> "STOPPING";
      case Bundle.ACTIVE -> "ACTIVE";
      case Bundle.UNINSTALLED -> "UNINSTALLED";
      default -> "state " + state;
    };
  }
}
