package org.gantry.hub.internal.artifact;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signs and verifies URLs of the hub's artifact server:
 *
 * <pre>{@code http://<host>:<port>/artifacts/<key>?expires=<epochSeconds>&signature=<base64url>}
 * </pre>
 *
 * <p>The signature is HMAC-SHA256 over {@code <METHOD>\n<key>\n<expires>} (the key as stored, not
 * percent-encoded) with a random 32-byte secret kept in a file of the hub's data folder (created on
 * first start with mode 600). Verification compares in constant time and checks the signature
 * before the expiry, so an extended expiry reads as tampering, not as valid. A URL is valid while
 * the clock is before {@code expires}. Thread-safe.
 */
public final class UrlSigner {
  /** The name of the secret's file in the hub's data folder. */
  public static final String SECRET_FILE = "artifact-url.key";

  /** The length of the secret, in bytes. */
  static final int SECRET_BYTES = 32;

  /** The path prefix of artifact URLs. */
  public static final String PATH_PREFIX = "/artifacts/";

  private static final Logger LOG = LoggerFactory.getLogger(UrlSigner.class);
  private static final String HMAC = "HmacSHA256";
  private static final int SIGNATURE_BYTES = 32;
  private static final int MAX_EXPIRES_DIGITS = 12;

  /** The outcome of {@link #verify}. */
  public enum Verdict {
    /** Signed by this hub, for this method and key, and not expired. */
    VALID,
    /** {@code expires} or {@code signature} missing, repeated or not of their form. */
    UNSIGNED,
    /** The signature does not match the method, key and expiry: one of them was changed. */
    TAMPERED,
    /** Signed by this hub, but the expiry has passed. */
    EXPIRED
  }

  private final SecretKeySpec secret;
  private final String base;
  private final Clock clock;

  /**
   * A signer with the given secret.
   *
   * @param baseUrl where devices reach the artifact server: {@code http(s)://host[:port]}, no path
   * @param clock the time that expiries are counted from and checked against
   */
  UrlSigner(byte[] secret, URI baseUrl, Clock clock) {
    if (secret.length != SECRET_BYTES) {
      throw new IllegalArgumentException("The URL secret must be " + SECRET_BYTES + " bytes");
    }
    this.secret = new SecretKeySpec(secret.clone(), HMAC);
    this.base = checkBase(baseUrl);
    this.clock = clock;
  }

  /**
   * A signer with the secret kept in {@code dataDir/}{@value #SECRET_FILE}, created on first use. A
   * secret file of the wrong length is moved aside to {@code <file>.corrupt-<millis>} (with an
   * ERROR line) and a new secret made: URLs signed before then get 403 and devices ask for the job
   * document again.
   *
   * @throws IOException when the file cannot be read or written
   * @throws IllegalArgumentException when {@code baseUrl} is not {@code http(s)://host[:port]}
   */
  public static UrlSigner open(Path dataDir, URI baseUrl, Clock clock) throws IOException {
    return new UrlSigner(loadOrCreateSecret(dataDir.resolve(SECRET_FILE), clock), baseUrl, clock);
  }

  /**
   * A URL for GET (and HEAD) of the artifact, valid for {@code lifetimeSeconds} from now.
   *
   * @throws ArtifactException {@link ArtifactException.Reason#INVALID_KEY}
   * @throws IllegalArgumentException when the lifetime is not positive
   */
  public String sign(String key, long lifetimeSeconds) throws ArtifactException {
    ArtifactKeys.check(key);
    if (lifetimeSeconds <= 0) {
      throw new IllegalArgumentException("A URL lifetime must be positive: " + lifetimeSeconds);
    }
    long expires = Math.addExact(clock.instant().getEpochSecond(), lifetimeSeconds);
    return base
        + PATH_PREFIX
        + ArtifactKeys.encodePath(key)
        + "?expires="
        + expires
        + "&signature="
        + Base64.getUrlEncoder().withoutPadding().encodeToString(mac("GET", key, expires));
  }

  /**
   * Checks a request against its signature.
   *
   * @param method the method the URL was signed for ({@code GET} for a HEAD request)
   * @param key the decoded key of the URL path
   * @param expires the {@code expires} query value, or {@code null}
   * @param signature the {@code signature} query value, or {@code null}
   */
  public Verdict verify(String method, String key, String expires, String signature) {
    if (expires == null
        || signature == null
        || expires.isEmpty()
        || expires.length() > MAX_EXPIRES_DIGITS
        || !expires.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return Verdict.UNSIGNED;
    }
    long at = Long.parseLong(expires);
    byte[] given;
    try {
      given = Base64.getUrlDecoder().decode(signature);
    } catch (IllegalArgumentException e) {
      return Verdict.TAMPERED;
    }
    if (given.length != SIGNATURE_BYTES || !MessageDigest.isEqual(given, mac(method, key, at))) {
      return Verdict.TAMPERED;
    }
    return clock.instant().getEpochSecond() < at ? Verdict.VALID : Verdict.EXPIRED;
  }

  private byte[] mac(String method, String key, long expires) {
    try {
      Mac mac = Mac.getInstance(HMAC);
      mac.init(secret);
      return mac.doFinal((method + "\n" + key + "\n" + expires).getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("Every Java platform has HmacSHA256", e);
    }
  }

  private static String checkBase(URI u) {
    String scheme = u.getScheme();
    if (!("http".equals(scheme) || "https".equals(scheme))
        || u.getHost() == null
        || u.getRawUserInfo() != null
        || u.getRawQuery() != null
        || u.getRawFragment() != null
        || !(u.getRawPath() == null || u.getRawPath().isEmpty() || "/".equals(u.getRawPath()))) {
      throw new IllegalArgumentException(
          "The artifact server's URL must be http(s)://host[:port] without a path: " + u);
    }
    String s = u.toString();
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  static byte[] loadOrCreateSecret(Path file, Clock clock) throws IOException {
    BasicFileAttributes attrs;
    try {
      attrs = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return createSecret(file);
    }
    if (!attrs.isRegularFile() || attrs.size() != SECRET_BYTES) {
      Path aside = file.resolveSibling(file.getFileName() + ".corrupt-" + clock.millis());
      Files.move(file, aside, StandardCopyOption.ATOMIC_MOVE);
      LOG.error(
          "The artifact URL secret {} is not a {}-byte file; moved to {} and a new secret made: URLs"
              + " signed before now are refused",
          file,
          SECRET_BYTES,
          aside);
      return createSecret(file);
    }
    restrict(file);
    byte[] secret = Files.readAllBytes(file);
    if (secret.length != SECRET_BYTES) {
      throw new IOException("The artifact URL secret " + file + " changed while it was read");
    }
    return secret;
  }

  private static byte[] createSecret(Path file) throws IOException {
    Files.createDirectories(file.getParent());
    byte[] secret = new byte[SECRET_BYTES];
    new SecureRandom().nextBytes(secret);
    Path temp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(temp);
    boolean posix = Files.getFileStore(file.getParent()).supportsFileAttributeView("posix");
    if (posix) {
      Files.createFile(
          temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } else {
      Files.createFile(temp);
      LOG.warn("The file system of {} has no POSIX permissions; protect the folder", file);
    }
    try {
      try (FileChannel out =
          FileChannel.open(temp, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
        ByteBuffer bb = ByteBuffer.wrap(secret);
        while (bb.hasRemaining()) {
          out.write(bb);
        }
        out.force(true);
      }
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(temp);
    }
    try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
      dir.force(true);
    } catch (IOException e) {
      LOG.debug("Could not force the folder of {}: {}", file, e.toString());
    }
    LOG.info("Artifact URL secret created in {}", file);
    return secret;
  }

  private static void restrict(Path file) throws IOException {
    if (!Files.getFileStore(file).supportsFileAttributeView("posix")) {
      return;
    }
    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
    Set<PosixFilePermission> ownerOnly =
        EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    if (!ownerOnly.containsAll(perms)) {
      Files.setPosixFilePermissions(file, ownerOnly);
      LOG.warn(
          "The artifact URL secret {} was readable by others ({}); set to rw-------",
          file,
          PosixFilePermissions.toString(perms));
    }
  }
}
