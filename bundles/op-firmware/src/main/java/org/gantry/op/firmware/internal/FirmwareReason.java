package org.gantry.op.firmware.internal;

import org.gantry.api.operation.ReasonCode;

/**
 * Why a {@code firmware-update} or {@code download-file} step did not succeed; the code goes into
 * {@code statusDetails} with a sentence. {@code DOCUMENT} codes are refusals (REJECTED, never
 * retried); the others are failures (FAILED, the service may retry).
 */
enum FirmwareReason implements ReasonCode {
  /**
   * The document gives neither {@code sha256} nor {@code signature}, and configuration requires
   * one.
   */
  UNVERIFIED_NOT_ALLOWED("DOCUMENT"),
  /** Configuration requires a signature ({@code signature.required}) and the document has none. */
  SIGNATURE_REQUIRED("DOCUMENT"),
  /** The document's version is not newer than the active one and it does not allow a downgrade. */
  VERSION_NOT_NEWER("DOCUMENT"),
  /** The document's artifact is the one already installed in a slot (a replayed document). */
  ALREADY_INSTALLED("DOCUMENT"),
  /** The document's target path leaves the configured download folder. */
  PATH_OUTSIDE_FOLDER("DOCUMENT"),
  /** The document's declared size is above the configured cap ({@code max.size.bytes}). */
  SIZE_ABOVE_LIMIT("DOCUMENT"),
  /** The URL uses plain HTTP and configuration does not allow it ({@code http.allowed}). */
  INSECURE_URL("DOCUMENT"),

  /** The connection failed, stalled past the idle deadline, or ended early, on every attempt. */
  DOWNLOAD_FAILED("NETWORK"),
  /** The download did not finish within the total deadline ({@code download.total.seconds}). */
  DOWNLOAD_TIMEOUT("NETWORK"),
  /** The server answered with an HTTP status that retrying cannot fix (404, 410, ...). */
  HTTP_STATUS("NETWORK"),
  /** The server answered 403 and fetching the job document again gave no usable fresh URL. */
  URL_EXPIRED("NETWORK"),
  /** The server sent more bytes than the declared size or the configured cap. */
  SIZE_EXCEEDED("NETWORK"),
  /**
   * The HTTPS server's certificate does not chain to a trusted CA (the JDK's, or {@code
   * download.ca.file}), or has expired. Not retried within the download.
   */
  SERVER_UNTRUSTED("NETWORK"),
  /**
   * The HTTPS server's certificate does not name the URL's host. Not retried within the download.
   */
  SERVER_NAME_MISMATCH("NETWORK"),

  /** The file's SHA-256 is not the document's {@code sha256}. */
  DIGEST_MISMATCH("INTEGRITY"),
  /** The signature does not verify with the signer certificate's key. */
  SIGNATURE_INVALID("INTEGRITY"),
  /** The signer certificate does not chain to the configured trust store, or cannot be read. */
  SIGNER_UNTRUSTED("INTEGRITY"),
  /** A signature must be checked but the gateway has no trust store ({@code trust.store}). */
  NO_TRUST_STORE("INTEGRITY"),

  /** An archive entry's name leaves the staging folder (traversal, absolute, backslash, prefix). */
  ARCHIVE_PATH_TRAVERSAL("INTEGRITY"),
  /** An archive holds a symbolic link, a hard link or a device/FIFO entry. */
  ARCHIVE_LINK("INTEGRITY"),
  /** An archive expands to more bytes than {@code extract.max.bytes}. */
  ARCHIVE_TOO_LARGE("INTEGRITY"),
  /** An archive expands more than {@code extract.max.ratio} times its own size. */
  ARCHIVE_RATIO("INTEGRITY"),
  /** An archive holds more entries than {@code extract.max.entries}. */
  ARCHIVE_TOO_MANY_ENTRIES("INTEGRITY"),
  /** An archive cannot be read as the format the document declares, or names an entry twice. */
  ARCHIVE_INVALID("INTEGRITY"),

  /** The disk filled up; partial files were removed. */
  DISK_FULL("DEVICE"),
  /** A file could not be read or written for another reason. */
  STORAGE_ERROR("DEVICE"),
  /** The activation command failed or timed out; the previous slot is active again. */
  ACTIVATION_FAILED("DEVICE"),
  /**
   * The health command did not succeed within the health window; the previous slot is active again.
   */
  HEALTH_CHECK_FAILED("DEVICE"),
  /** Another firmware update holds the slots. */
  SLOTS_BUSY("DEVICE"),
  /** The execution was cancelled (by the service, its step timeout, or the gateway stopping). */
  CANCELLED("DEVICE");

  private final String category;

  FirmwareReason(String category) {
    this.category = category;
  }

  @Override
  public String category() {
    return category;
  }

  /** Whether an exception with this code is a refusal of the document (REJECTED). */
  boolean refusal() {
    return "DOCUMENT".equals(category);
  }

  OperationFailure fail(String message) {
    return new OperationFailure(this, message, null);
  }

  OperationFailure fail(String message, Throwable cause) {
    return new OperationFailure(this, message, cause);
  }
}
