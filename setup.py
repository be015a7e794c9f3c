"""Installs unimedi. The reproducible stack is `requirements/lock.txt` (see README)."""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def read_requirements(name: str) -> list[str]:
    """Requirement lines of ``requirements/<name>.txt`` without comments."""
    lines = (HERE / 'requirements' / f'{name}.txt').read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith('#')]


def read_version() -> str:
    namespace: dict = {}
    exec((HERE / 'unimedi' / 'version.py').read_text(), namespace)
    return namespace['__version__']


setup(
    name='unimedi',
    version=read_version(),
    description='UniMedI: unified 2D/3D medical image pre-training in a language-guided '
    'common semantic space, on MMEngine.',
    long_description=(HERE / 'README.md').read_text(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.10',
    packages=find_packages(include=['unimedi', 'unimedi.*']),
    include_package_data=True,
    install_requires=read_requirements('runtime'),
    extras_require={
        'tests': read_requirements('tests'),
        'text': read_requirements('text'),
        'lint': read_requirements('lint'),
        'tensorboard': read_requirements('tensorboard'),
        'all': read_requirements('tests') + read_requirements('text'),
    },
    classifiers=[
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Medical Science Apps.',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
)
