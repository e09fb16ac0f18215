package org.gantry.hub.internal.artifact;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.gantry.hub.internal.artifact.ArtifactException.Reason;

/**
 * Maps an S3 object URL, as job documents and {@code documentSource} name them, to the key of the
 * hub's artifact store: {@code <bucket>/<key>}. The region is ignored (a hub has one store).
 *
 * <p>Recognised forms, {@code https} only, no port, query or fragment:
 *
 * <ul>
 *   <li>path style: {@code https://s3.amazonaws.com/<bucket>/<key>}, {@code
 *       https://s3.<region>.amazonaws.com/<bucket>/<key>}, {@code
 *       https://s3-<region>.amazonaws.com/<bucket>/<key>}
 *   <li>virtual-hosted style: {@code https://<bucket>.s3.amazonaws.com/<key>}, {@code
 *       https://<bucket>.s3.<region>.amazonaws.com/<key>}, {@code
 *       https://<bucket>.s3-<region>.amazonaws.com/<key>}
 * </ul>
 *
 * The key is percent-decoded (UTF-8) and must follow the key rules of {@link ArtifactKeys}; the
 * bucket must be 3-63 characters of {@code [a-z0-9.-]}, starting and ending with a letter or digit.
 */
public final class S3Urls {
  private static final String REGION = "[a-z0-9]+(?:-[a-z0-9]+)*";
  private static final Pattern PATH_STYLE =
      Pattern.compile("s3(?:[.-]" + REGION + ")?\\.amazonaws\\.com");
  private static final Pattern VIRTUAL_HOSTED =
      Pattern.compile("([a-z0-9.-]+)\\.s3(?:[.-]" + REGION + ")?\\.amazonaws\\.com");
  private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

  private S3Urls() {}

  /**
   * The artifact key an S3 object URL names.
   *
   * @throws ArtifactException {@link Reason#INVALID_S3_URL} naming what is wrong, or {@link
   *     Reason#INVALID_KEY}
   */
  public static String artifactKey(String url) throws ArtifactException {
    URI u;
    try {
      u = new URI(url);
    } catch (URISyntaxException e) {
      throw invalid(url, "is not a URL");
    }
    if (!"https".equals(u.getScheme())) {
      throw invalid(url, "is not an https URL");
    }
    String host = u.getHost();
    if (host == null || u.getRawAuthority() == null || !u.getRawAuthority().equals(host)) {
      throw invalid(url, "has no host, or a port or user part");
    }
    if (u.getRawQuery() != null || u.getRawFragment() != null) {
      throw invalid(url, "has a query or fragment");
    }
    String path = u.getRawPath();
    if (path == null || !path.startsWith("/")) {
      throw invalid(url, "has no object path");
    }
    String bucket;
    String rawKey;
    Matcher vh = VIRTUAL_HOSTED.matcher(host);
    if (PATH_STYLE.matcher(host).matches()) {
      int slash = path.indexOf('/', 1);
      if (slash < 0) {
        throw invalid(url, "names a bucket but no object key");
      }
      bucket = path.substring(1, slash);
      rawKey = path.substring(slash + 1);
    } else if (vh.matches()) {
      bucket = vh.group(1);
      rawKey = path.substring(1);
    } else {
      throw invalid(url, "is not an Amazon S3 object URL (s3.<region>.amazonaws.com)");
    }
    if (!BUCKET.matcher(bucket).matches()) {
      throw invalid(url, "has an invalid bucket name " + ArtifactKeys.clip(bucket));
    }
    if (rawKey.isEmpty()) {
      throw invalid(url, "names a bucket but no object key");
    }
    String key = ArtifactKeys.decode(rawKey);
    if (key == null) {
      throw invalid(url, "has a broken percent-encoding in its key");
    }
    return ArtifactKeys.check(bucket + "/" + key);
  }

  private static ArtifactException invalid(String url, String why) {
    return new ArtifactException(
        Reason.INVALID_S3_URL, "The S3 URL " + ArtifactKeys.clip(url) + " " + why + ".");
  }
}
