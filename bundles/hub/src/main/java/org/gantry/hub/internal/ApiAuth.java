package org.gantry.hub.internal;

import com.google.gson.JsonObject;
import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpExchange;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authentication of the management API, as a filter in front of every route (artifact uploads
 * included): an AWS Signature Version 4 of a configured access key (service {@code iot}, the hub's
 * region, {@code x-amz-date} within 15 minutes of the hub's clock), or {@code Authorization: Bearer
 * <token>} of a configured token. Secrets and signatures are compared in constant time. A refused
 * request gets 403 with AWS's error type and a message naming the check that failed, and one log
 * line.
 */
final class ApiAuth extends Filter {
  static final String SERVICE = "iot";
  static final String ALGORITHM = "AWS4-HMAC-SHA256";
  static final String UNSIGNED = "UNSIGNED-PAYLOAD";
  static final Duration MAX_SKEW = Duration.ofMinutes(15);
  private static final DateTimeFormatter AMZ_DATE =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT);
  private static final Logger LOG = LoggerFactory.getLogger(ApiAuth.class);

  private final AuthSettings settings;
  private final String region;
  private final Clock clock;
  private final List<byte[]> tokenDigests = new ArrayList<>();

  /** A refusal: the error type AWS uses and the check that failed. */
  static final class Refused extends Exception {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final String type;

    Refused(String type, String message) {
      this(403, type, message);
    }

    Refused(int status, String type, String message) {
      super(message);
      this.status = status;
      this.type = type;
    }

    int status() {
      return status;
    }

    String type() {
      return type;
    }
  }

  ApiAuth(AuthSettings settings, String region, Clock clock) {
    this.settings = settings;
    this.region = region;
    this.clock = clock;
    for (String t : settings.tokens()) {
      tokenDigests.add(sha256(t.getBytes(StandardCharsets.UTF_8)));
    }
  }

  @Override
  public String description() {
    return "SigV4 or bearer-token authentication of the Gantry hub's management API";
  }

  @Override
  public void doFilter(HttpExchange ex, Chain chain) throws IOException {
    try {
      authenticate(ex);
    } catch (Refused r) {
      LOG.info(
          "{} {} from {} refused: {} {}",
          ex.getRequestMethod(),
          ex.getRequestURI().getRawPath(),
          ex.getRemoteAddress().getAddress().getHostAddress(),
          r.type(),
          r.getMessage());
      refuse(ex, r);
      return;
    }
    chain.doFilter(ex);
  }

  private static void refuse(HttpExchange ex, Refused r) throws IOException {
    try (ex) {
      JsonObject body = new JsonObject();
      body.addProperty("message", r.getMessage());
      byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", "application/json");
      ex.getResponseHeaders().set("x-amzn-RequestId", UUID.randomUUID().toString());
      ex.getResponseHeaders().set("x-amzn-ErrorType", r.type());
      ex.sendResponseHeaders(r.status(), bytes.length);
      try (OutputStream os = ex.getResponseBody()) {
        os.write(bytes);
      }
    }
  }

  /** Checks the request's credentials; may replace its body stream with a checked copy. */
  void authenticate(HttpExchange ex) throws Refused, IOException {
    String authorization = ex.getRequestHeaders().getFirst("Authorization");
    if (authorization == null || authorization.isBlank()) {
      throw new Refused(
          "MissingAuthenticationTokenException",
          "Missing Authentication Token: sign the request with SigV4 or send Authorization:"
              + " Bearer <token>.");
    }
    if (authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      bearer(authorization.substring(7).strip());
    } else if (authorization.startsWith(ALGORITHM + " ")) {
      sigV4(ex, authorization.substring(ALGORITHM.length() + 1));
    } else {
      throw new Refused(
          "IncompleteSignatureException",
          "The Authorization header is neither " + ALGORITHM + " nor Bearer.");
    }
  }

  private void bearer(String token) throws Refused {
    byte[] digest = sha256(token.getBytes(StandardCharsets.UTF_8));
    boolean ok = false;
    for (byte[] d : tokenDigests) {
      // Every token is compared, in constant time over equal-length digests.
      ok |= MessageDigest.isEqual(d, digest);
    }
    if (!ok) {
      throw new Refused(
          "UnrecognizedClientException", "The bearer token is not one of this hub's.");
    }
  }

  // ------------------------------------------------------------------ SigV4

  private void sigV4(HttpExchange ex, String fields) throws Refused, IOException {
    String credential = null;
    String signedHeaders = null;
    String signature = null;
    for (String part : fields.split(",")) {
      String p = part.strip();
      int eq = p.indexOf('=');
      if (eq < 0) {
        continue;
      }
      String name = p.substring(0, eq);
      String value = p.substring(eq + 1);
      switch (name) {
        case "Credential" -> credential = value;
        case "SignedHeaders" -> signedHeaders = value;
        case "Signature" -> signature = value;
        default -> {
          // AWS ignores other fields as well
        }
      }
    }
    if (credential == null || signedHeaders == null || signature == null) {
      throw new Refused(
          "IncompleteSignatureException",
          "The Authorization header needs Credential, SignedHeaders and Signature.");
    }
    String[] scope = credential.split("/");
    if (scope.length != 5) {
      throw new Refused(
          "IncompleteSignatureException",
          "Credential must be ACCESS_KEY_ID/date/region/service/aws4_request.");
    }
    String secret = settings.keys().get(scope[0]);
    if (secret == null) {
      throw new Refused(
          "UnrecognizedClientException", "Access key " + Texts.clip(scope[0]) + " is not known.");
    }
    String amzDate = ex.getRequestHeaders().getFirst("x-amz-date");
    if (amzDate == null) {
      throw new Refused("IncompleteSignatureException", "The x-amz-date header is missing.");
    }
    Instant when;
    try {
      when = LocalDateTime.parse(amzDate.strip(), AMZ_DATE).toInstant(ZoneOffset.UTC);
    } catch (DateTimeParseException e) {
      throw new Refused(
          "IncompleteSignatureException", "x-amz-date must be yyyyMMddTHHmmssZ (UTC).");
    }
    Instant now = clock.instant();
    if (Duration.between(when, now).abs().compareTo(MAX_SKEW) > 0) {
      throw new Refused(
          "InvalidSignatureException",
          "Signature expired: x-amz-date "
              + amzDate.strip()
              + " is more than 15 minutes from the hub's time "
              + AMZ_DATE.format(now.atOffset(ZoneOffset.UTC))
              + ".");
    }
    if (!scope[1].equals(amzDate.strip().substring(0, 8))) {
      throw new Refused(
          "InvalidSignatureException", "The credential date is not the date of x-amz-date.");
    }
    if (!scope[2].equals(region)) {
      throw new Refused(
          "InvalidSignatureException",
          "The credential region " + Texts.clip(scope[2]) + " is not this hub's " + region + ".");
    }
    if (!scope[3].equals(SERVICE) || !scope[4].equals("aws4_request")) {
      throw new Refused(
          "InvalidSignatureException",
          "The credential scope must end with /" + SERVICE + "/aws4_request.");
    }
    List<String> signed = List.of(signedHeaders.toLowerCase(Locale.ROOT).split(";"));
    if (!signed.contains("host") || !signed.contains("x-amz-date")) {
      throw new Refused(
          "InvalidSignatureException", "SignedHeaders must include host and x-amz-date.");
    }
    String payloadHash = payloadHash(ex, signed);
    String canonical =
        ex.getRequestMethod()
            + "\n"
            + canonicalUri(ex.getRequestURI().getRawPath())
            + "\n"
            + canonicalQuery(ex.getRequestURI().getRawQuery())
            + "\n"
            + canonicalHeaders(ex, signed)
            + "\n"
            + String.join(";", signed)
            + "\n"
            + payloadHash;
    String scopeText = scope[1] + "/" + scope[2] + "/" + scope[3] + "/" + scope[4];
    String toSign =
        ALGORITHM
            + "\n"
            + amzDate.strip()
            + "\n"
            + scopeText
            + "\n"
            + hex(sha256(canonical.getBytes(StandardCharsets.UTF_8)));
    byte[] key = hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), scope[1]);
    key = hmac(key, scope[2]);
    key = hmac(key, scope[3]);
    key = hmac(key, "aws4_request");
    byte[] expected = hex(hmac(key, toSign)).getBytes(StandardCharsets.US_ASCII);
    if (!MessageDigest.isEqual(expected, signature.getBytes(StandardCharsets.US_ASCII))) {
      throw new Refused(
          "InvalidSignatureException",
          "The request signature does not match the one calculated from the method, path, query,"
              + " signed headers and body with the secret of access key "
              + scope[0]
              + ".");
    }
  }

  /**
   * The payload hash of the canonical request: {@code x-amz-content-sha256} when sent (the body is
   * then checked against it), else the SHA-256 of the body. Management calls are read whole (at
   * most {@link ApiServer#MAX_BODY}); artifact uploads stream, so they must send the header (hex,
   * checked as the body streams, or {@code UNSIGNED-PAYLOAD}).
   */
  private String payloadHash(HttpExchange ex, List<String> signed) throws Refused, IOException {
    String header = ex.getRequestHeaders().getFirst("x-amz-content-sha256");
    if (header != null && !signed.contains("x-amz-content-sha256")) {
      throw new Refused(
          "InvalidSignatureException", "x-amz-content-sha256 is sent but not signed.");
    }
    String path = ex.getRequestURI().getRawPath();
    boolean upload = path.startsWith("/artifacts/") && "PUT".equals(ex.getRequestMethod());
    if (header != null) {
      header = header.strip();
    }
    if (upload) {
      if (header == null) {
        throw new Refused(
            "IncompleteSignatureException",
            "An artifact upload signed with SigV4 needs x-amz-content-sha256: the body's SHA-256"
                + " in hex, or UNSIGNED-PAYLOAD.");
      }
      if (header.equals(UNSIGNED)) {
        return header;
      }
      byte[] want = parseHash(header);
      ex.setStreams(new CheckedBody(ex.getRequestBody(), want), null);
      return header;
    }
    if (UNSIGNED.equals(header)) {
      throw new Refused(
          "InvalidSignatureException", "UNSIGNED-PAYLOAD is accepted for artifact uploads only.");
    }
    byte[] body = readBody(ex);
    String actual = hex(sha256(body));
    ex.setStreams(new ByteArrayInputStream(body), null);
    if (header != null && !MessageDigest.isEqual(parseHash(header), sha256(body))) {
      throw new Refused(
          "InvalidSignatureException", "The body does not match its x-amz-content-sha256.");
    }
    return actual;
  }

  private static byte[] parseHash(String hex) throws Refused {
    try {
      byte[] b = HexFormat.of().parseHex(hex);
      if (b.length == 32) {
        return b;
      }
    } catch (IllegalArgumentException e) {
      // answered below
    }
    throw new Refused(
        "InvalidSignatureException",
        "x-amz-content-sha256 must be 64 hex digits or UNSIGNED-PAYLOAD.");
  }

  private static byte[] readBody(HttpExchange ex) throws Refused, IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    try (InputStream in = ex.getRequestBody()) {
      byte[] chunk = new byte[8192];
      int r;
      while ((r = in.read(chunk)) != -1) {
        buf.write(chunk, 0, r);
        if (buf.size() > ApiServer.MAX_BODY) {
          throw new Refused(413, "InvalidRequestException", "The request body is over 1 MiB.");
        }
      }
    }
    return buf.toByteArray();
  }

  /** SigV4 for services other than S3: the path as sent, URI-encoded once more. */
  static String canonicalUri(String rawPath) {
    if (rawPath == null || rawPath.isEmpty()) {
      return "/";
    }
    return encode(rawPath, false);
  }

  /** Parameters sorted by encoded name, then value; each encoded as SigV4 encodes. */
  static String canonicalQuery(String rawQuery) throws Refused {
    if (rawQuery == null || rawQuery.isEmpty()) {
      return "";
    }
    List<String[]> pairs = new ArrayList<>();
    for (String pair : rawQuery.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String k = eq < 0 ? pair : pair.substring(0, eq);
      String v = eq < 0 ? "" : pair.substring(eq + 1);
      pairs.add(new String[] {encode(decode(k), true), encode(decode(v), true)});
    }
    pairs.sort((a, b) -> a[0].equals(b[0]) ? a[1].compareTo(b[1]) : a[0].compareTo(b[0]));
    StringBuilder sb = new StringBuilder();
    for (String[] p : pairs) {
      if (sb.length() > 0) {
        sb.append('&');
      }
      sb.append(p[0]).append('=').append(p[1]);
    }
    return sb.toString();
  }

  private static String canonicalHeaders(HttpExchange ex, List<String> signed) throws Refused {
    StringBuilder sb = new StringBuilder();
    for (String name : signed) {
      List<String> values = ex.getRequestHeaders().get(name);
      if (values == null) {
        throw new Refused(
            "InvalidSignatureException", "Signed header " + Texts.clip(name) + " is missing.");
      }
      List<String> trimmed = new ArrayList<>();
      for (String v : values) {
        trimmed.add(v.strip().replaceAll("\\s+", " "));
      }
      sb.append(name).append(':').append(String.join(",", trimmed)).append('\n');
    }
    return sb.toString();
  }

  /** Percent-encodes all but the unreserved characters (and {@code /} unless {@code slash}). */
  static String encode(String s, boolean slash) {
    StringBuilder sb = new StringBuilder();
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if ((c >= 'A' && c <= 'Z')
          || (c >= 'a' && c <= 'z')
          || (c >= '0' && c <= '9')
          || c == '-'
          || c == '_'
          || c == '.'
          || c == '~'
          || (c == '/' && !slash)) {
        sb.append(c);
      } else {
        sb.append('%').append(String.format("%02X", b & 0xff));
      }
    }
    return sb.toString();
  }

  private static String decode(String s) throws Refused {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%') {
        int hi = i + 2 < s.length() ? Character.digit(s.charAt(i + 1), 16) : -1;
        int lo = i + 2 < s.length() ? Character.digit(s.charAt(i + 2), 16) : -1;
        if (hi < 0 || lo < 0) {
          throw new Refused("InvalidSignatureException", "The query has a broken percent escape.");
        }
        b.write(hi * 16 + lo);
        i += 2;
      } else if (c == '+') {
        b.write(' ');
      } else {
        byte[] raw = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        b.write(raw, 0, raw.length);
      }
    }
    return b.toString(StandardCharsets.UTF_8);
  }

  static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("Every Java platform has SHA-256", e);
    }
  }

  static byte[] hmac(byte[] key, String data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("Every Java platform has HmacSHA256", e);
    }
  }

  static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }

  /** An upload body checked against its signed SHA-256 as it streams; a mismatch fails at EOF. */
  private static final class CheckedBody extends FilterInputStream {
    private final MessageDigest digest;
    private final byte[] want;
    private boolean checked;

    CheckedBody(InputStream in, byte[] want) {
      super(in);
      this.want = want;
      try {
        this.digest = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("Every Java platform has SHA-256", e);
      }
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b < 0) {
        check();
      } else {
        digest.update((byte) b);
      }
      return b;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
      int n = super.read(buf, off, len);
      if (n < 0) {
        check();
      } else {
        digest.update(buf, off, n);
      }
      return n;
    }

    private void check() throws IOException {
      if (checked) {
        return;
      }
      checked = true;
      if (!MessageDigest.isEqual(digest.digest(), want)) {
        throw new IOException("the body does not match its signed x-amz-content-sha256");
      }
    }

    @Override
    public long skip(long n) throws IOException {
      throw new IOException("a signed upload body is read, not skipped");
    }
  }
}
