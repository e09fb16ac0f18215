package org.gantry.op.firmware.internal;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.gantry.api.operation.JobParameters;
import org.gantry.api.operation.OperationException;

/**
 * The parameters of one {@code firmware-update} or {@code download-file} step, checked: exactly the
 * fields of {@code schema/firmware-update.schema.json} and {@code download-file.schema.json}. The
 * AWS OTA shape (normalised by the jobdoc bundle: {@code url}, {@code size}, {@code filePath},
 * {@code signature}, {@code signatureAlgorithm}, {@code certFile}, {@code fileId}, {@code
 * fileType}, {@code authScheme}, {@code protocols}, {@code format: "afr_ota"}) and the
 * AWS-Download-File shape ({@code url}, {@code filePath}, {@code runAsUser}) are both accepted.
 */
record Request(
    URI url,
    Long size,
    byte[] sha256,
    byte[] signature,
    SignatureKind signatureKind,
    Path certFile,
    String certificatePem,
    String filePath,
    Format format,
    String version,
    boolean allowDowngrade) {

  /** The operation a request is for. */
  enum Kind {
    FIRMWARE_UPDATE,
    DOWNLOAD_FILE
  }

  /** Signature schemes, as AWS code signing names them. */
  enum SignatureKind {
    ECDSA_P256_SHA256,
    RSA_SHA256
  }

  /** How the artifact is staged; never detected from its content. */
  enum Format {
    /** A single file, copied into the slot as it is (also {@code afr_ota}). */
    RAW,
    TAR,
    TAR_GZ,
    ZIP
  }

  private static final Set<String> COMMON =
      Set.of(
          "url",
          "size",
          "sha256",
          "signature",
          "signatureAlgorithm",
          "certFile",
          "certificate",
          "filePath");
  private static final Set<String> FIRMWARE_ONLY =
      Set.of(
          "fileId",
          "fileType",
          "fileCount",
          "authScheme",
          "protocols",
          "format",
          "version",
          "allowDowngrade");
  private static final Set<String> DOWNLOAD_ONLY = Set.of("runAsUser");

  private static final Pattern HEX64 = Pattern.compile("[0-9a-fA-F]{64}");
  private static final Pattern VERSION = Pattern.compile("[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}");
  private static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._+-]{0,254}");

  /**
   * Reads and checks the parameters; every refusal names the field.
   *
   * @throws OperationException REJECTED ({@code INVALID_PARAMETERS} or a document code)
   */
  static Request of(JobParameters p, Kind kind, Settings s) throws OperationException {
    for (String name : p.names()) {
      boolean known =
          COMMON.contains(name)
              || (kind == Kind.FIRMWARE_UPDATE ? FIRMWARE_ONLY : DOWNLOAD_ONLY).contains(name);
      if (!known) {
        throw OperationException.invalidParameters(
            "parameter '" + name + "' is not a parameter of " + operation(kind));
      }
    }
    URI url = url(p.requireString("url"), s);
    Long size = null;
    if (p.integer("size").isPresent()) {
      long v = p.integer("size").getAsLong();
      if (v < 1) {
        throw OperationException.invalidParameters("parameter 'size' must be at least 1");
      }
      if (v > s.maxSizeBytes()) {
        throw FirmwareReason.SIZE_ABOVE_LIMIT.fail(
            "parameter 'size' is "
                + v
                + " bytes, more than this gateway accepts (max.size.bytes="
                + s.maxSizeBytes()
                + ").");
      }
      size = v;
    }
    byte[] sha256 = null;
    Optional<String> hex = p.string("sha256");
    if (hex.isPresent()) {
      if (!HEX64.matcher(hex.get()).matches()) {
        throw OperationException.invalidParameters(
            "parameter 'sha256' must be 64 hexadecimal digits");
      }
      sha256 = HexFormat.of().parseHex(hex.get().toLowerCase(Locale.ROOT));
    }
    byte[] signature = null;
    Optional<String> sig = p.string("signature");
    if (sig.isPresent()) {
      try {
        signature = Base64.getMimeDecoder().decode(sig.get());
      } catch (IllegalArgumentException e) {
        throw OperationException.invalidParameters("parameter 'signature' must be base64");
      }
      if (signature.length < 8 || signature.length > 1024) {
        throw OperationException.invalidParameters(
            "parameter 'signature' must decode to 8 to 1024 bytes (a DER signature)");
      }
    }
    SignatureKind sigKind = signatureKind(p.string("signatureAlgorithm").orElse(null));
    if (sigKind != null && signature == null) {
      throw OperationException.invalidParameters(
          "parameter 'signatureAlgorithm' is given without 'signature'");
    }
    if (signature != null && sigKind == null) {
      sigKind = SignatureKind.ECDSA_P256_SHA256;
    }
    Path certFile = null;
    if (p.string("certFile").isPresent()) {
      try {
        certFile = Path.of(p.string("certFile").get());
      } catch (InvalidPathException e) {
        throw OperationException.invalidParameters("parameter 'certFile' is not a valid path");
      }
      if (!certFile.isAbsolute()) {
        throw OperationException.invalidParameters(
            "parameter 'certFile' must be an absolute path on the gateway");
      }
    }
    String certificate = p.string("certificate").orElse(null);
    if (certificate != null && certFile != null) {
      throw OperationException.invalidParameters(
          "parameters 'certFile' and 'certificate' are exclusive; give one signer certificate");
    }
    if ((certificate != null || certFile != null) && signature == null) {
      throw OperationException.invalidParameters(
          "a signer certificate is given without 'signature'");
    }
    if (signature != null && certificate == null && certFile == null && s.signerCert() == null) {
      throw OperationException.invalidParameters(
          "parameter 'signature' needs a signer certificate: 'certFile' or 'certificate'"
              + " (this gateway has no default signer.cert)");
    }
    if (s.signatureRequired() && signature == null) {
      throw FirmwareReason.SIGNATURE_REQUIRED.fail(
          "This gateway requires a signature (signature.required=true), and the document has"
              + " no 'signature'.");
    }
    if (signature == null && sha256 == null && !s.allowUnverified()) {
      throw FirmwareReason.UNVERIFIED_NOT_ALLOWED.fail(
          "The document gives neither 'sha256' nor 'signature', and this gateway does not accept"
              + " unverified downloads (allow.unverified=false).");
    }
    String filePath = p.string("filePath").orElse(null);
    if (kind == Kind.DOWNLOAD_FILE) {
      if (filePath == null || filePath.isBlank()) {
        throw OperationException.invalidParameters(
            "parameter 'filePath' is required: where to store the file");
      }
      String user = p.string("runAsUser").orElse("");
      if (!user.isEmpty() && !user.equals(System.getProperty("user.name"))) {
        throw OperationException.invalidParameters(
            "parameter 'runAsUser' asks for '"
                + user
                + "', but downloads are written as the runtime's user '"
                + System.getProperty("user.name")
                + "'");
      }
      return new Request(
          url,
          size,
          sha256,
          signature,
          sigKind,
          certFile,
          certificate,
          filePath,
          Format.RAW,
          null,
          false);
    }
    checkOtaFields(p);
    Format format = format(p.string("format").orElse(null), filePath, url);
    String version = p.string("version").orElse(null);
    if (version != null && !VERSION.matcher(version).matches()) {
      throw OperationException.invalidParameters(
          "parameter 'version' must be 1 to 64 characters of letters, digits and . + _ -,"
              + " starting with a letter or digit");
    }
    boolean allowDowngrade = p.bool("allowDowngrade").orElse(false);
    if (format == Format.RAW) {
      imageName(filePath, url);
    }
    return new Request(
        url,
        size,
        sha256,
        signature,
        sigKind,
        certFile,
        certificate,
        filePath,
        format,
        version,
        allowDowngrade);
  }

  private static String operation(Kind kind) {
    return kind == Kind.FIRMWARE_UPDATE ? "firmware-update" : "download-file";
  }

  private static URI url(String value, Settings s) throws OperationException {
    URI u;
    try {
      u = new URI(value);
    } catch (URISyntaxException e) {
      throw OperationException.invalidParameters("parameter 'url' is not a valid URL");
    }
    String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("https") && !scheme.equals("http")) {
      throw OperationException.invalidParameters("parameter 'url' must be an https:// URL");
    }
    if (u.getHost() == null || u.getHost().isEmpty()) {
      throw OperationException.invalidParameters("parameter 'url' has no host");
    }
    if (u.getUserInfo() != null) {
      throw OperationException.invalidParameters(
          "parameter 'url' must not carry a user name or password");
    }
    if (scheme.equals("http") && !s.httpAllowed()) {
      throw FirmwareReason.INSECURE_URL.fail(
          "parameter 'url' uses plain HTTP, which this gateway does not allow (http.allowed=false);"
              + " use https://.");
    }
    return u;
  }

  private static void checkOtaFields(JobParameters p) throws OperationException {
    p.integer("fileId");
    p.integer("fileType");
    if (p.integer("fileCount").isPresent()) {
      long files = p.integer("fileCount").getAsLong();
      if (files < 1) {
        throw OperationException.invalidParameters("parameter 'fileCount' must be at least 1");
      }
      if (files > 1) {
        throw FirmwareReason.MULTIPLE_FILES.fail(
            "The AWS OTA document has "
                + files
                + " files, and this gateway installs one image per job (each file would replace"
                + " the one before in the A/B slots); ship the files as one tar.gz or zip, or"
                + " create one OTA update per image.");
      }
    }
    Optional<String> auth = p.string("authScheme");
    if (auth.isPresent() && !auth.get().equals("aws.s3.presigned")) {
      throw OperationException.invalidParameters(
          "parameter 'authScheme' must be 'aws.s3.presigned' (the only HTTP scheme of AWS OTA)");
    }
    List<String> protocols = p.strings("protocols");
    if (p.has("protocols") && p.asMap().get("protocols") != null && !protocols.contains("HTTP")) {
      throw OperationException.invalidParameters(
          "parameter 'protocols' must include \"HTTP\": this gateway downloads over HTTP(S) only");
    }
  }

  private static SignatureKind signatureKind(String name) throws OperationException {
    if (name == null) {
      return null;
    }
    return switch (name) {
      case "SHA256withECDSA", "sig-sha256-ecdsa" -> SignatureKind.ECDSA_P256_SHA256;
      case "SHA256withRSA", "sig-sha256-rsa" -> SignatureKind.RSA_SHA256;
      default ->
          throw OperationException.invalidParameters(
              "parameter 'signatureAlgorithm' must be SHA256withECDSA or SHA256withRSA");
    };
  }

  private static Format format(String declared, String filePath, URI url)
      throws OperationException {
    if (declared != null) {
      return switch (declared) {
        case "raw", "afr_ota" -> Format.RAW;
        case "tar" -> Format.TAR;
        case "tar.gz", "tgz" -> Format.TAR_GZ;
        case "zip" -> Format.ZIP;
        default ->
            throw OperationException.invalidParameters(
                "parameter 'format' must be one of raw, afr_ota, tar, tar.gz, tgz, zip");
      };
    }
    String name = (filePath != null ? filePath : lastSegment(url)).toLowerCase(Locale.ROOT);
    if (name.endsWith(".tar.gz") || name.endsWith(".tgz")) {
      return Format.TAR_GZ;
    }
    if (name.endsWith(".tar")) {
      return Format.TAR;
    }
    if (name.endsWith(".zip")) {
      return Format.ZIP;
    }
    return Format.RAW;
  }

  private static String lastSegment(URI url) {
    String path = url.getPath() == null ? "" : url.getPath();
    return path.substring(path.lastIndexOf('/') + 1);
  }

  /**
   * The file name a raw image gets in its slot: the last element of {@code filePath} (AWS OTA gives
   * a device path such as {@code /opt/firmware/app.bin}; the image goes into the slot, not there),
   * else the URL's last path segment.
   */
  static String imageName(String filePath, URI url) throws OperationException {
    String source = filePath != null ? filePath : lastSegment(url);
    String name = source.substring(source.lastIndexOf('/') + 1);
    if (!FILE_NAME.matcher(name).matches()) {
      throw OperationException.invalidParameters(
          "parameter 'filePath' (or the URL's last path segment) must end in a file name of"
              + " letters, digits and . _ + -, but is '"
              + source
              + "'");
    }
    return name;
  }

  String imageName() throws OperationException {
    return imageName(filePath, url);
  }

  boolean verifiable() {
    return sha256 != null || signature != null;
  }
}
