/**
 * multipart/form-data bodies from cameras (an XML or JSON document plus JPEG pictures), buffered with hard
 * limits so a camera cannot make the controller hold more than a few megabytes per request.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";
import busboy from "busboy";
import { imageExt } from "./fields.js";
import { IngestError, type ReadImage } from "./types.js";

export interface MultipartPart {
  name: string;
  filename: string | null;
  contentType: string;
  data: Buffer;
}

/** A parsed multipart body, handed to the protocol adapter as the request body. */
export class MultipartBody {
  constructor(readonly parts: readonly MultipartPart[]) {}

  /** The first part whose content is an XML document (cameras disagree on the part's name). */
  xmlPart(): MultipartPart | undefined {
    return this.parts.find((p) => /xml/i.test(p.contentType) || firstNonSpace(p.data) === "<");
  }

  /** The first part whose content is a JSON document. */
  jsonPart(): MultipartPart | undefined {
    return this.parts.find((p) => /json/i.test(p.contentType) || firstNonSpace(p.data) === "{");
  }

  /** The picture parts; a part named or filed as a plate crop is the plate image, any other the full frame. */
  images(): ReadImage[] {
    return this.parts
      .filter((p) => /^image\//i.test(p.contentType) || isJpeg(p.data))
      .map((p) => ({
        kind: /plate/i.test(`${p.name} ${p.filename ?? ""}`) ? "plate" : "full",
        ext: imageExt(p.data, p.contentType),
        data: p.data,
      }));
  }
}

export const MULTIPART_LIMITS = {
  parts: 12,
  partBytes: 8 * 1024 * 1024,
  fieldBytes: 256 * 1024,
  totalBytes: 16 * 1024 * 1024,
};

function firstNonSpace(data: Buffer): string {
  for (const byte of data.subarray(0, 64)) if (byte > 0x20) return String.fromCharCode(byte);
  return "";
}

function isJpeg(data: Buffer): boolean {
  return data.length > 2 && data[0] === 0xff && data[1] === 0xd8;
}

/** Read a whole multipart body; rejects with IngestError (naming the limit) when it is malformed or too big. */
export function parseMultipart(headers: IncomingHttpHeaders, body: Readable): Promise<MultipartBody> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers,
        limits: {
          parts: MULTIPART_LIMITS.parts,
          files: MULTIPART_LIMITS.parts,
          fileSize: MULTIPART_LIMITS.partBytes,
          fieldSize: MULTIPART_LIMITS.fieldBytes,
        },
      });
    } catch (err) {
      reject(new IngestError("body", `not a multipart body: ${(err as Error).message}`));
      return;
    }
    const parts: MultipartPart[] = [];
    let failed = false;
    const fail = (message: string): void => {
      if (failed) return;
      failed = true;
      body.unpipe(parser);
      body.resume();
      reject(new IngestError("body", message));
    };
    parser.on("file", (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("limit", () => fail(`part '${name}' is larger than ${MULTIPART_LIMITS.partBytes} bytes`));
      stream.on("end", () =>
        parts.push({
          name,
          filename: info.filename ?? null,
          contentType: info.mimeType,
          data: Buffer.concat(chunks),
        }),
      );
    });
    parser.on("field", (name, value, info) => {
      if (info.valueTruncated)
        return fail(`field '${name}' is larger than ${MULTIPART_LIMITS.fieldBytes} bytes`);
      parts.push({ name, filename: null, contentType: info.mimeType, data: Buffer.from(value) });
    });
    parser.on("partsLimit", () => fail(`more than ${MULTIPART_LIMITS.parts} parts`));
    parser.on("filesLimit", () => fail(`more than ${MULTIPART_LIMITS.parts} files`));
    parser.on("error", (err: Error) => fail(`malformed multipart body: ${err.message}`));
    parser.on("close", () => {
      if (!failed) resolve(new MultipartBody(parts));
    });
    let total = 0;
    body.on("data", (chunk: Buffer) => {
      total += chunk.length;
      if (total > MULTIPART_LIMITS.totalBytes) fail(`body larger than ${MULTIPART_LIMITS.totalBytes} bytes`);
    });
    body.pipe(parser);
  });
}
