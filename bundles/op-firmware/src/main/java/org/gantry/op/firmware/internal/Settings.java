package org.gantry.op.firmware.internal;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** {@link FirmwareConfig} checked once at activation; every problem names its property. */
record Settings(
    Path firmwareDir,
    Path downloadDir,
    Path trustStore,
    Path signerCert,
    boolean signatureRequired,
    boolean allowUnverified,
    boolean httpAllowed,
    Path downloadCaFile,
    boolean downloadCaOnly,
    long maxSizeBytes,
    Duration idle,
    Duration total,
    int attempts,
    Duration backoff,
    long checkpointBytes,
    Limits limits,
    List<String> activateCommand,
    Duration activateTimeout,
    List<String> healthCommand,
    Duration healthWindow,
    Duration healthInterval) {

  /** Caps on what an archive may expand to. */
  record Limits(long maxBytes, int maxEntries, int maxRatio) {}

  static Settings of(FirmwareConfig c) {
    return new Settings(
        absolute(c.firmware_dir(), "firmware.dir", false),
        absolute(c.download_dir(), "download.dir", false),
        absolute(c.trust_store(), "trust.store", true),
        absolute(c.signer_cert(), "signer.cert", true),
        c.signature_required(),
        c.allow_unverified(),
        c.http_allowed(),
        absolute(c.download_ca_file(), "download.ca.file", true),
        c.download_ca_only(),
        positive(c.max_size_bytes(), "max.size.bytes"),
        Duration.ofSeconds(range(c.download_idle_seconds(), 1, 3600, "download.idle.seconds")),
        Duration.ofSeconds(range(c.download_total_seconds(), 1, 604_800, "download.total.seconds")),
        (int) range(c.download_attempts(), 1, 100, "download.attempts"),
        Duration.ofMillis(range(c.download_backoff_ms(), 0, 30_000, "download.backoff.ms")),
        range(c.download_checkpoint_bytes(), 65_536, Long.MAX_VALUE, "download.checkpoint.bytes"),
        new Limits(
            positive(c.extract_max_bytes(), "extract.max.bytes"),
            (int) range(c.extract_max_entries(), 1, Integer.MAX_VALUE, "extract.max.entries"),
            (int) range(c.extract_max_ratio(), 1, Integer.MAX_VALUE, "extract.max.ratio")),
        command(c.activate_command(), "activate.command"),
        Duration.ofSeconds(
            range(c.activate_timeout_seconds(), 1, 86_400, "activate.timeout.seconds")),
        command(c.health_command(), "health.command"),
        Duration.ofSeconds(range(c.health_window_seconds(), 1, 86_400, "health.window.seconds")),
        Duration.ofMillis(range(c.health_interval_ms(), 100, 3_600_000, "health.interval.ms")));
  }

  private static Path absolute(String value, String property, boolean optional) {
    if (value == null || value.isBlank()) {
      if (optional) {
        return null;
      }
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

  private static long positive(long v, String property) {
    return range(v, 1, Long.MAX_VALUE, property);
  }

  private static long range(long v, long min, long max, String property) {
    if (v < min || v > max) {
      throw new IllegalArgumentException(
          property + " must be between " + min + " and " + max + ", but is " + v);
    }
    return v;
  }

  private static List<String> command(String[] argv, String property) {
    if (argv == null || argv.length == 0 || (argv.length == 1 && argv[0].isBlank())) {
      return List.of();
    }
    if (!Path.of(argv[0]).isAbsolute()) {
      throw new IllegalArgumentException(
          property + " must start with an absolute program path, but starts with " + argv[0]);
    }
    return List.of(argv);
  }
}
