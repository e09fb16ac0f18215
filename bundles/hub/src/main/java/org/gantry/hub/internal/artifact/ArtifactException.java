package org.gantry.hub.internal.artifact;

/**
 * A request about artifacts that the hub refuses: a reason code (for {@code statusDetails}, an HTTP
 * answer or a log line) and one sentence saying what was wrong.
 */
public final class ArtifactException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Why an artifact request was refused. */
  public enum Reason {
    /** A key that breaks the key rules (empty, too long, {@code ..}, control characters, ...). */
    INVALID_KEY("InvalidArtifactKey"),
    /** A key that would need a folder where an artifact is, or an artifact where a folder is. */
    KEY_CONFLICT("ArtifactKeyConflict"),
    /** No artifact under the key. */
    NOT_FOUND("ArtifactNotFound"),
    /** An upload longer than the configured maximum. */
    TOO_LARGE("ArtifactTooLarge"),
    /** An upload whose SHA-256 differs from the one its sender announced. */
    CHECKSUM_MISMATCH("ArtifactChecksumMismatch"),
    /** An S3 object URL that is not one of the recognised forms. */
    INVALID_S3_URL("InvalidS3Url"),
    /** A presigned-URL placeholder that is not one of the recognised forms. */
    INVALID_PLACEHOLDER("InvalidPresignedUrlPlaceholder"),
    /** A job document that is not well-formed where the placeholders are looked for. */
    INVALID_DOCUMENT("InvalidJobDocument"),
    /**
     * Too many placeholders, or a document that would grow past the limit once they are replaced.
     */
    DOCUMENT_TOO_LARGE("JobDocumentTooLarge"),
    /** A URL lifetime outside 60-3600 seconds ({@code presignedUrlConfig.expiresInSec}). */
    INVALID_EXPIRY("InvalidPresignedUrlExpiry");

    private final String code;

    Reason(String code) {
      this.code = code;
    }

    /** The reason code as it goes into {@code statusDetails} and HTTP answers. */
    public String code() {
      return code;
    }
  }

  private final Reason reason;

  ArtifactException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
