"""Photo variants: every format, orientation, metadata stripping, and refusal of bad input.

Every fixture is generated here with Pillow / pillow-heif; nothing is downloaded.
"""

from __future__ import annotations

import io
import resource
import struct
import zlib

import pillow_heif
import pytest
from PIL import ExifTags, Image, ImageCms

from ortholens.kit.errors import InvalidInput, PayloadTooLarge
from ortholens.processing.photo_decoders import decode_with_pillow, decode_with_vips
from ortholens.processing.photos import (
    ImageType,
    PhotoLimits,
    detect_image_type,
    make_variants,
)

RED = (220, 20, 20)
pillow_heif.register_heif_opener()


def upright_photo(width: int = 2400, height: int = 1600) -> Image.Image:
    """A grey landscape image with a red block in its top-left corner (an asymmetric marker)."""
    image = Image.new("RGB", (width, height), (128, 128, 128))
    image.paste(RED, (0, 0, width // 4, height // 4))
    return image


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def identifying_exif(orientation: int = 1) -> Image.Exif:
    """EXIF with a capture time, exposure settings, a camera identity and a GPS position."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "AcmeCam"
    exif[ExifTags.Base.Model] = "Model-SN-4242"
    exif[ExifTags.Base.Software] = "AcmeFirmware 1.2"
    ifd = exif.get_ifd(ExifTags.IFD.Exif)
    ifd[ExifTags.Base.DateTimeOriginal] = "2024:05:01 10:20:30"
    ifd[ExifTags.Base.ExposureTime] = 0.008
    ifd[ExifTags.Base.FNumber] = 2.8
    ifd[ExifTags.Base.ISOSpeedRatings] = 200
    ifd[ExifTags.Base.FocalLength] = 4.2
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 22.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (4.0, 53.0, 40.0)
    return exif


def is_red(pixel: tuple[int, ...]) -> bool:
    return pixel[0] > 180 and pixel[1] < 70 and pixel[2] < 70


def riff_chunks(data: bytes) -> list[bytes]:
    """The chunk ids of a WebP (RIFF) file."""
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WEBP"
    chunks, offset = [], 12
    while offset + 8 <= len(data):
        fourcc, size = (
            data[offset : offset + 4],
            struct.unpack("<I", data[offset + 4 : offset + 8])[0],
        )
        chunks.append(fourcc)
        offset += 8 + size + (size & 1)
    return chunks


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG declaring width x height greyscale pixels with one empty IDAT: a header, no pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b""))
        + png_chunk(b"IEND", b"")
    )


def png_bomb(side: int) -> bytes:
    """A real, valid, single-colour side x side greyscale PNG: a few hundred KB that inflate to side² bytes."""
    compressor = zlib.compressobj(9)
    row = bytes(side + 1)  # filter byte + black pixels
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


FORMATS = {
    ImageType.JPEG: lambda image: encode(image, "JPEG", quality=90),
    ImageType.PNG: lambda image: encode(image, "PNG"),
    ImageType.HEIC: lambda image: encode(image, "HEIF", quality=80),
    ImageType.TIFF: lambda image: encode(image, "TIFF", compression="tiff_lzw"),
    ImageType.WEBP: lambda image: encode(image, "WEBP", quality=90),
}


@pytest.mark.parametrize("image_type", list(ImageType))
def test_every_format_makes_a_square_webp_thumbnail_and_a_1600_preview(
    image_type: ImageType,
) -> None:
    data = FORMATS[image_type](upright_photo(2400, 1800))

    variants = make_variants(data)

    assert variants.image_type is image_type
    assert (variants.width, variants.height) == (2400, 1800)
    thumbnail = Image.open(io.BytesIO(variants.thumbnail))
    assert (thumbnail.format, thumbnail.size) == ("WEBP", (300, 300))
    preview = Image.open(io.BytesIO(variants.preview))
    assert (preview.format, preview.size) == ("JPEG", (1600, 1200))
    assert (variants.preview_width, variants.preview_height) == (1600, 1200)
    assert is_red(preview.getpixel((50, 50)))
    assert not is_red(preview.getpixel((1550, 1150)))


@pytest.mark.parametrize("image_type", list(ImageType))
def test_a_small_photo_is_not_upscaled_in_the_preview(image_type: ImageType) -> None:
    variants = make_variants(FORMATS[image_type](upright_photo(640, 480)))

    assert Image.open(io.BytesIO(variants.preview)).size == (640, 480)
    assert Image.open(io.BytesIO(variants.thumbnail)).size == (300, 300)


def test_heic_is_decoded_through_pillow_heif_because_bundled_libvips_has_no_hevc() -> None:
    data = FORMATS[ImageType.HEIC](upright_photo(800, 600))

    with pytest.raises(InvalidInput):
        decode_with_vips(data, ImageType.HEIC, PhotoLimits(), 1600)
    assert decode_with_pillow(data, ImageType.HEIC, PhotoLimits(), 1600).image.size == (800, 600)


@pytest.mark.parametrize("image_type", list(ImageType))
def test_type_comes_from_the_content(image_type: ImageType) -> None:
    assert detect_image_type(FORMATS[image_type](upright_photo(64, 48))) is image_type


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n%\xe2\xe3", b"GIF89a\x01\x00\x01\x00", b"just some text", b"RIFF\0\0\0\0AVI "],
)
def test_a_file_with_foreign_magic_bytes_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput, match="not a photo we can read"):
        make_variants(data)


@pytest.mark.parametrize(
    ("orientation", "rotate"), [(6, Image.Transpose.ROTATE_90), (8, Image.Transpose.ROTATE_270)]
)
@pytest.mark.parametrize("decoder", [decode_with_pillow, decode_with_vips])
def test_exif_orientation_is_applied_to_the_pixels(
    orientation: int, rotate: Image.Transpose, decoder: object
) -> None:
    # Stored sideways, as a phone writes it; the tag says how to turn it upright.
    stored = upright_photo(2400, 1600).transpose(rotate)
    data = encode(stored, "JPEG", quality=90, exif=identifying_exif(orientation))

    variants = make_variants(data, decoder=decoder)  # type: ignore[arg-type]

    assert (variants.width, variants.height) == (2400, 1600)
    preview = Image.open(io.BytesIO(variants.preview))
    assert preview.size == (1600, 1067)
    assert is_red(preview.getpixel((40, 40)))
    assert not is_red(preview.getpixel((1560, 40)))
    assert not is_red(preview.getpixel((40, 1020)))
    thumbnail = Image.open(io.BytesIO(variants.thumbnail)).convert("RGB")
    assert not is_red(thumbnail.getpixel((290, 290)))
    assert variants.kept_metadata["orientation_applied"] == orientation


@pytest.mark.parametrize("decoder", [decode_with_pillow, decode_with_vips])
def test_location_and_device_identifiers_are_absent_from_both_variants(decoder: object) -> None:
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><tiff:Make>AcmeCam</tiff:Make></rdf:RDF></x:xmpmeta>'
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(
        upright_photo(), "JPEG", quality=90, exif=identifying_exif(), xmp=xmp, icc_profile=icc
    )
    assert b"AcmeCam" in data
    assert b"ICC_PROFILE" in data

    variants = make_variants(data, decoder=decoder)  # type: ignore[arg-type]

    for blob in (variants.thumbnail, variants.preview):
        for marker in (b"Exif\x00\x00", b"AcmeCam", b"Model-SN", b"adobe:ns:meta", b"ICC_PROFILE"):
            assert marker not in blob
        image = Image.open(io.BytesIO(blob))
        assert not image.getexif()
        assert not {"exif", "xmp", "icc_profile", "XML:com.adobe.xmp"} & set(image.info)
    assert set(riff_chunks(variants.thumbnail)) <= {b"VP8 ", b"VP8L", b"VP8X", b"ALPH"}


def test_kept_metadata_has_capture_time_and_exposure_but_no_device_or_place() -> None:
    data = encode(upright_photo(), "JPEG", quality=90, exif=identifying_exif())

    kept = make_variants(data).kept_metadata

    assert kept == {
        "orientation_applied": 1,
        "captured_at": "2024-05-01T10:20:30",
        "exposure_time_s": 0.008,
        "f_number": 2.8,
        "iso": 200,
        "focal_length_mm": 4.2,
    }


def test_a_png_with_exif_loses_it_in_the_variants_and_keeps_the_capture_time() -> None:
    data = encode(upright_photo(), "PNG", exif=identifying_exif())

    variants = make_variants(data)

    assert b"AcmeCam" not in variants.preview
    assert b"AcmeCam" not in variants.thumbnail
    assert variants.kept_metadata["captured_at"] == "2024-05-01T10:20:30"


@pytest.mark.parametrize("decoder", [decode_with_pillow, decode_with_vips])
def test_a_decompression_bomb_is_refused_without_decoding_it(decoder: object) -> None:
    bomb = png_bomb(15_000)  # 225 megapixels, ~220 KB
    assert len(bomb) < 1_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    with pytest.raises(InvalidInput, match="megapixels"):
        make_variants(bomb, decoder=decoder)  # type: ignore[arg-type]

    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 100_000  # decoding would need 225 MB at least


def test_a_photo_over_the_pixel_limit_is_refused() -> None:
    data = png_header_only(12_000, 9_000)  # 108 megapixels, sides within limits

    with pytest.raises(InvalidInput, match="limit is 100 megapixels"):
        make_variants(data)


@pytest.mark.parametrize("decoder", [decode_with_pillow, decode_with_vips])
@pytest.mark.parametrize("size", [(25_000, 1), (1, 30_000)])
def test_absurd_dimensions_are_refused(size: tuple[int, int], decoder: object) -> None:
    with pytest.raises(InvalidInput, match="no side may exceed 20000 pixels"):
        make_variants(png_header_only(*size), decoder=decoder)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "image_type", [ImageType.JPEG, ImageType.PNG, ImageType.WEBP, ImageType.TIFF]
)
def test_a_truncated_file_is_refused(image_type: ImageType) -> None:
    data = FORMATS[image_type](upright_photo(1200, 900).effect_spread(8))

    with pytest.raises(InvalidInput, match="damaged or incomplete"):
        make_variants(data[: len(data) // 2])


def test_a_damaged_header_is_refused() -> None:
    data = bytearray(FORMATS[ImageType.PNG](upright_photo(64, 48)))
    data[20:28] = b"\xff" * 8  # scribble over IHDR

    with pytest.raises(InvalidInput):
        make_variants(bytes(data))


def test_empty_bytes_are_refused() -> None:
    with pytest.raises(InvalidInput, match="empty"):
        make_variants(b"")


def test_a_file_over_the_byte_limit_is_refused_as_too_large() -> None:
    data = FORMATS[ImageType.JPEG](upright_photo(640, 480))

    with pytest.raises(PayloadTooLarge, match="limit is"):
        make_variants(data, limits=PhotoLimits(max_bytes=len(data) - 1))


def test_the_original_bytes_are_left_as_they_were() -> None:
    data = encode(upright_photo(), "JPEG", quality=90, exif=identifying_exif(6))
    copy = bytes(bytearray(data))

    make_variants(data)

    assert data == copy
