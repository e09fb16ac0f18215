package org.gantry.op.firmware.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of both operations, PID {@code org.gantry.op.firmware}. */
@ObjectClassDefinition(
    id = FirmwareConfig.PID,
    name = "Gantry firmware operation",
    description =
        "Download, verify, extract, stage, activate and roll back firmware; download files.")
public @interface FirmwareConfig {

  /** The configuration PID shared by {@code firmware-update} and {@code download-file}. */
  String PID = "org.gantry.op.firmware";

  /**
   * @return the folder holding {@code slot-a}, {@code slot-b} and the {@code active} pointer
   */
  @AttributeDefinition(name = "Firmware folder", description = "Holds slot-a, slot-b and active.")
  String firmware_dir() default "/var/lib/gantry/firmware";

  /**
   * @return the only folder {@code download-file} writes to
   */
  @AttributeDefinition(name = "Download folder", description = "download-file writes only here.")
  String download_dir() default "/var/lib/gantry/downloads";

  /**
   * @return a PEM bundle of CA certificates that signer certificates must chain to; empty: none
   */
  @AttributeDefinition(
      name = "Trust store",
      description = "PEM file of CA certificates for signer certificates; empty: signatures fail.")
  String trust_store() default "";

  /**
   * @return the signer certificate (PEM) used when a document names none; empty: none
   */
  @AttributeDefinition(
      name = "Default signer certificate",
      description = "PEM signer certificate (chain) for documents without certFile/certificate.")
  String signer_cert() default "";

  /**
   * @return whether every document must carry a signature
   */
  @AttributeDefinition(name = "Signature required")
  boolean signature_required() default false;

  /**
   * @return whether documents with neither sha256 nor signature are accepted
   */
  @AttributeDefinition(
      name = "Allow unverified downloads",
      description = "Accept documents with neither sha256 nor signature (AWS-Download-File).")
  boolean allow_unverified() default false;

  /**
   * @return whether plain http:// URLs are accepted
   */
  @AttributeDefinition(name = "Allow plain HTTP")
  boolean http_allowed() default false;

  /**
   * @return a PEM bundle of CA certificates trusted for HTTPS downloads; empty: the JDK's only
   */
  @AttributeDefinition(
      name = "Download CA file",
      description =
          "PEM bundle of CAs trusted for HTTPS downloads, in addition to the JDK's default CAs"
              + " (or instead of them with download.ca.only). Empty: the JDK's default CAs only.")
  String download_ca_file() default "";

  /**
   * @return whether HTTPS downloads trust only the CAs of {@code download.ca.file}
   */
  @AttributeDefinition(
      name = "Trust only the download CA file",
      description = "Trust only download.ca.file's CAs for HTTPS downloads, not the JDK's.")
  boolean download_ca_only() default false;

  /**
   * @return the largest artifact accepted, in bytes
   */
  @AttributeDefinition(name = "Size cap (bytes)", min = "1")
  long max_size_bytes() default 2_147_483_648L;

  /**
   * @return seconds without a byte before an attempt is abandoned
   */
  @AttributeDefinition(name = "Idle deadline (s)", min = "1", max = "3600")
  int download_idle_seconds() default 30;

  /**
   * @return seconds the whole download may take, attempts included
   */
  @AttributeDefinition(name = "Total deadline (s)", min = "1", max = "604800")
  int download_total_seconds() default 3600;

  /**
   * @return attempts in a row that move no byte before the download fails
   */
  @AttributeDefinition(name = "Attempts without progress", min = "1", max = "100")
  int download_attempts() default 8;

  /**
   * @return the first pause between attempts; it doubles up to 30 s, with jitter
   */
  @AttributeDefinition(name = "First retry pause (ms)", min = "0", max = "30000")
  int download_backoff_ms() default 500;

  /**
   * @return bytes between two durable checkpoints of the download offset
   */
  @AttributeDefinition(name = "Checkpoint every (bytes)", min = "65536")
  long download_checkpoint_bytes() default 16_777_216L;

  /**
   * @return the most bytes an archive may expand to
   */
  @AttributeDefinition(name = "Extraction cap (bytes)", min = "1")
  long extract_max_bytes() default 4_294_967_296L;

  /**
   * @return the most entries an archive may hold
   */
  @AttributeDefinition(name = "Entry cap", min = "1")
  int extract_max_entries() default 10_000;

  /**
   * @return how many times its own size an archive may expand to
   */
  @AttributeDefinition(name = "Ratio cap", min = "1")
  int extract_max_ratio() default 100;

  /**
   * @return the activation command; it gets the slot folder and the version as arguments
   */
  @AttributeDefinition(
      name = "Activation command",
      description = "Program and arguments; the slot folder and version are appended. Empty: none.")
  String[] activate_command() default {};

  /**
   * @return seconds the activation command may run
   */
  @AttributeDefinition(name = "Activation timeout (s)", min = "1", max = "86400")
  int activate_timeout_seconds() default 300;

  /**
   * @return the health command, run until it exits 0 or the window ends
   */
  @AttributeDefinition(
      name = "Health command",
      description = "Program and arguments; the slot folder and version are appended. Empty: none.")
  String[] health_command() default {};

  /**
   * @return seconds after activation within which the health command must succeed
   */
  @AttributeDefinition(name = "Health window (s)", min = "1", max = "86400")
  int health_window_seconds() default 120;

  /**
   * @return milliseconds between two runs of the health command
   */
  @AttributeDefinition(name = "Health poll interval (ms)", min = "100", max = "3600000")
  int health_interval_ms() default 5000;
}
