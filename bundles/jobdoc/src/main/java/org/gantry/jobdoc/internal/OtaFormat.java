package org.gantry.jobdoc.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.gantry.api.document.JobDocument;
import org.gantry.api.document.JobDocumentException;
import org.gantry.api.document.JobStep;
import org.gantry.api.operation.JobParameters;

/**
 * AWS IoT OTA job documents ({@code afr_ota}), as the OTA service writes them for FreeRTOS-style
 * agents: one {@code firmware-update} step per entry of {@code files[]}. Gantry fetches OTA files
 * over HTTPS only, so every file needs its {@code update_data_url}; MQTT streams are refused by
 * name rather than half-supported.
 */
final class OtaFormat {

  static final String NAME = "AWS IoT OTA";
  static final String FIRMWARE_UPDATE = "firmware-update";
  static final String SIGNATURE = "sig-sha256-ecdsa";

  /** The Java signature algorithm of {@code sig-sha256-ecdsa}. */
  static final String SIGNATURE_ALGORITHM = "SHA256withECDSA";

  /** Files larger than this cannot be a gateway's firmware; refused as a typing error. */
  private static final long MAX_FILE_SIZE = 1L << 40;

  private static final Set<String> ROOT_KEYS = Set.of("afr_ota");

  private OtaFormat() {}

  static boolean matches(Map<String, Object> root) {
    return root.containsKey("afr_ota");
  }

  static JobDocument read(Map<String, Object> root, int maxSteps) throws JobDocumentException {
    Fields.onlyKnownKeys(root, ROOT_KEYS, "top level", NAME);
    Map<String, Object> ota =
        Fields.object(root.get("afr_ota"), "afr_ota", "protocols, streamname, files");
    List<String> protocols = Fields.strings(ota, "protocols", "afr_ota");
    String stream = Fields.optionalString(ota, "streamname", "afr_ota");
    List<?> files = Fields.list(ota.get("files"), "afr_ota.files", maxSteps, "files[]");
    List<JobStep> steps = new ArrayList<>(files.size());
    for (int i = 0; i < files.size(); i++) {
      String path = "afr_ota.files[" + i + "]";
      Map<String, Object> f = Fields.object(files.get(i), path, "filepath, filesize, ...");
      steps.add(file(f, path, protocols, stream, files.size()));
    }
    return new JobDocument(steps);
  }

  private static JobStep file(
      Map<String, Object> f, String path, List<String> protocols, String stream, int fileCount)
      throws JobDocumentException {
    String filePath = Fields.requiredString(f, "filepath", path);
    Long size = Fields.wholeNumber(f, "filesize", path, 0, MAX_FILE_SIZE);
    if (size == null) {
      throw Fields.invalid("The job document has no " + path + ".filesize; it is required.");
    }
    Long fileId = Fields.wholeNumber(f, "fileid", path, 0, Integer.MAX_VALUE);
    Long fileType = Fields.wholeNumber(f, "fileType", path, 0, Integer.MAX_VALUE);
    String certFile = Fields.optionalString(f, "certfile", path);
    String url = Fields.optionalString(f, "update_data_url", path);
    if (url == null || url.isBlank()) {
      throw Fields.invalid(
          "The job document's "
              + path
              + " has no update_data_url: this gateway fetches OTA files over HTTPS only, and"
              + " MQTT streams"
              + (stream == null ? "" : " (streamname " + StrictJsonReader.quote(stream) + ")")
              + " are not supported. Create the OTA update with the HTTP protocol.");
    }
    String authScheme = Fields.optionalString(f, "auth_scheme", path);
    String signature = Fields.optionalString(f, SIGNATURE, path);
    if (signature == null || signature.isBlank()) {
      throw Fields.invalid(
          "The job document's "
              + path
              + " has no "
              + SIGNATURE
              + " signature; this gateway installs only files signed with ECDSA over SHA-256.");
    }
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("url", url);
    p.put("size", size);
    p.put("filePath", filePath);
    p.put("signature", signature);
    p.put("signatureAlgorithm", SIGNATURE_ALGORITHM);
    if (certFile != null) {
      p.put("certFile", certFile);
    }
    if (fileId != null) {
      p.put("fileId", fileId);
    }
    if (fileType != null) {
      p.put("fileType", fileType);
    }
    if (authScheme != null) {
      p.put("authScheme", authScheme);
    }
    if (!protocols.isEmpty()) {
      p.put("protocols", protocols);
    }
    p.put("format", "afr_ota");
    if (fileCount > 1) {
      // A step alone cannot tell that the document has other files; the operation decides.
      p.put("fileCount", fileCount);
    }
    return new JobStep(FIRMWARE_UPDATE, JobParameters.of(p));
  }
}
